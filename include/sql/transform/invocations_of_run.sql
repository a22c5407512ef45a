-- dbt invocations of one transform DAG run (run_id '<start>_<Airflow run id>', macros/artifacts.sql).
SELECT count(*) FROM dbt_artifacts.invocations WHERE run_id LIKE '%%\_' || %s;
