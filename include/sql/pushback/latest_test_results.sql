-- PII gate: the latest result of each required PII / k-anonymity test (dbt_artifacts).
SELECT DISTINCT ON (t.unique_id) t.unique_id, t.status, t.completed_at, t.run_id, t.num_failing_rows
FROM dbt_artifacts.test_results AS t
WHERE t.unique_id = ANY (%(tests)s)
ORDER BY t.unique_id, t.completed_at DESC, t.id DESC;
