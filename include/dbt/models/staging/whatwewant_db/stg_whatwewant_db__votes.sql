-- whatwewant_db.votes as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). No PII column (user ids only):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    wish_id,
    user_id,
    value,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('whatwewant_db', 'whatwewant_db__votes') }}
