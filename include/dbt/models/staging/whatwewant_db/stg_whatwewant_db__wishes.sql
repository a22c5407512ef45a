-- whatwewant_db.wishes as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). PII still here (details):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    user_id,
    title,
    details,
    tags,
    city,
    amount,
    currency,
    status,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('whatwewant_db', 'whatwewant_db__wishes') }}
