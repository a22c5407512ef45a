"""push_back__{app}: one DAG per app of config/pushback.yml (DAG factory).

Wiring only; the logic is in plugins/dataacuity/pushback.py. At task run time only the running
DAG is built (get_parsing_context).
"""

from airflow.sdk import get_parsing_context

from dataacuity.pushback_dags import build_pushback_dags

for _dag in build_pushback_dags(only_dag_id=get_parsing_context().dag_id):
    globals()[_dag.dag_id] = _dag
