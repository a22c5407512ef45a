INSERT INTO etl.extract_batch (
    batch_id, source_db, table_name, mode, window_start, window_end,
    rows_read, rows_inserted, rows_updated, rows_deleted, duration_ms, replica_lag_s,
    status, error, started_at
) VALUES (
    %(batch_id)s, %(source_db)s, %(table_name)s, %(mode)s, %(window_start)s, %(window_end)s,
    %(rows_read)s, %(rows_inserted)s, %(rows_updated)s, %(rows_deleted)s, %(duration_ms)s,
    %(replica_lag_s)s, %(status)s, %(error)s, %(started_at)s
)
