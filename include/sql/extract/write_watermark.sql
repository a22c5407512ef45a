-- Advanced in the same transaction as the rows it covers.
INSERT INTO etl.extract_watermark (source_db, table_name, cursor_value, last_batch_id, last_success_at)
VALUES (%(source_db)s, %(table_name)s, %(cursor_value)s, %(batch_id)s, now())
ON CONFLICT (source_db, table_name) DO UPDATE
SET cursor_value    = excluded.cursor_value,
    last_batch_id   = excluded.last_batch_id,
    last_success_at = excluded.last_success_at
