-- raw.<source_db>__<table>: every source column with its source type, plus the audit columns.
CREATE TABLE IF NOT EXISTS {raw} (
    {column_definitions},
    _extracted_at     timestamptz NOT NULL,
    _extract_batch_id uuid        NOT NULL,
    PRIMARY KEY ({primary_key})
)
