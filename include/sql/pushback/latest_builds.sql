-- PII gate: the latest successful build of each model the pushed data comes from (dbt_artifacts).
SELECT DISTINCT ON (r.model_name) r.model_name, r.completed_at, r.run_id
FROM dbt_artifacts.model_results AS r
WHERE r.model_name = ANY (%(models)s) AND r.status = 'success'
ORDER BY r.model_name, r.completed_at DESC, r.id DESC;
