"""extract__{source_db}: one DAG per source database of config/sources.yml (DAG factory).

Wiring only; the logic is in plugins/dataacuity/extract. At task run time only the running DAG
is built (get_parsing_context).
"""

from airflow.sdk import get_parsing_context

from dataacuity.extract.dags import build_extract_dags

for _dag in build_extract_dags(only_dag_id=get_parsing_context().dag_id):
    globals()[_dag.dag_id] = _dag
