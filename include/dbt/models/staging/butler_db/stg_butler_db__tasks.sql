-- butler_db.tasks as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). PII still here (instructions, address_line, latitude, longitude):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    user_id,
    provider_id,
    category,
    instructions,
    address_line,
    latitude,
    longitude,
    amount,
    currency,
    status,
    scheduled_for,
    completed_at,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('butler_db', 'butler_db__tasks') }}
