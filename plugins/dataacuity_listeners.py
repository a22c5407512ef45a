"""Airflow plugin: the pipeline's listeners (loaded by the scheduler from the plugins folder).

- dataacuity.transform_coalesce: a successful transform run consumes the queued Asset events its
  dbt build covered, so one extract cycle sets off one transform run (issue 11).
"""

from airflow.plugins_manager import AirflowPlugin

from dataacuity import transform_coalesce


class DataAcuityListeners(AirflowPlugin):
    name = "dataacuity_listeners"
    listeners = [transform_coalesce]
