-- takemehome_db.drivers as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). No PII column (user ids only):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    user_id,
    vehicle_registration,
    vehicle_make,
    vehicle_model,
    rating,
    city,
    status,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('takemehome_db', 'takemehome_db__drivers') }}
