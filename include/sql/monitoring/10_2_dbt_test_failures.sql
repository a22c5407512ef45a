-- Runbook §10.2 dbt test failure summary: after a dbt run, what is failing?
-- Database: data_warehouse (.106). dbt_artifacts.test_results is written by dbt's on-run-end
-- hook after every invocation; run_id sorts by start time, so max(run_id) is the latest run.
SELECT model_name, test_name, status, num_failing_rows
FROM dbt_artifacts.test_results
WHERE run_id = (SELECT max(run_id) FROM dbt_artifacts.test_results)
  AND status != 'pass'
ORDER BY num_failing_rows DESC;
