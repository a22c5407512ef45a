-- Runbook §10.1 Extract freshness: last successful extract per source table, the stalest first.
-- Database: data_warehouse (.106). Reads etl.extract_batch (one row per extract batch), so it
-- covers every registry table without listing them (the runbook's UNION over raw.* by hand).
SELECT source_db || '__' || table_name AS table_name,
       max(finished_at)                AS last_extract_at,
       now() - max(finished_at)        AS lag
FROM etl.extract_batch
WHERE status = 'success'
GROUP BY source_db, table_name
ORDER BY lag DESC;
