-- butler_db.providers as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). PII still here (contact_phone, contact_email):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    user_id,
    business_name,
    contact_phone,
    contact_email,
    services,
    rating,
    city,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('butler_db', 'butler_db__providers') }}
