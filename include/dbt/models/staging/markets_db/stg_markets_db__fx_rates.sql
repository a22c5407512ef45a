-- markets_db.fx_rates as extracted: one row per primary key (rate_date, currency; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). No PII column (user ids only):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    rate_date,
    currency,
    zar_per_unit,
    source,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('markets_db', 'markets_db__fx_rates') }}
