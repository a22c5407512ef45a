-- Freshness of every registry table from the batch log alone (no scan of raw, which
-- pipeline_monitor cannot read): the last successful extract and its replica lag ("is the
-- pipeline behind?") and the last successful batch that brought new rows ("did the source go
-- quiet?"). Each lookup is one index probe (extract_batch_table_finished, extract_batch_last_rows).
-- Parameters: source_dbs, table_names (text[], same length).
SELECT t.source_db,
       t.table_name,
       s.finished_at   AS last_success_at,
       s.replica_lag_s AS replica_lag_s,
       r.finished_at   AS last_rows_at,
       now()           AS measured_at
FROM unnest(%(source_dbs)s::text[], %(table_names)s::text[]) AS t(source_db, table_name)
LEFT JOIN LATERAL (
    SELECT b.finished_at, b.replica_lag_s
    FROM etl.extract_batch b
    WHERE b.source_db = t.source_db AND b.table_name = t.table_name AND b.status = 'success'
    ORDER BY b.finished_at DESC
    LIMIT 1
) s ON true
LEFT JOIN LATERAL (
    SELECT b.finished_at
    FROM etl.extract_batch b
    WHERE b.source_db = t.source_db AND b.table_name = t.table_name
      AND b.status = 'success' AND b.rows_inserted > 0
    ORDER BY b.finished_at DESC
    LIMIT 1
) r ON true
