-- markets_db.instruments as extracted: one row per primary key (code; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). No PII column (user ids only):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    code,
    name,
    asset_class,
    decimals,
    is_active,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('markets_db', 'markets_db__instruments') }}
