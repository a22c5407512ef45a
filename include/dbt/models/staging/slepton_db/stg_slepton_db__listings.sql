-- slepton_db.listings as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). PII still here (address_line, latitude, longitude):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    host_user_id,
    title,
    address_line,
    city,
    province,
    latitude,
    longitude,
    amount,
    currency,
    amenities,
    max_guests,
    is_active,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('slepton_db', 'slepton_db__listings') }}
