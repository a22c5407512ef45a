-- raw.<source_db>__<table>: every source column with its source type, plus the audit columns.
CREATE TABLE IF NOT EXISTS {raw} (
    {column_definitions},
    _extracted_at     timestamptz NOT NULL,
    _extract_batch_id uuid        NOT NULL,
    PRIMARY KEY ({primary_key})
);
-- dbt's incremental models select the rows extracted since their last run.
CREATE INDEX IF NOT EXISTS {extracted_at_index} ON {raw} (_extracted_at)
