-- tagme_db.tags as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). PII still here (note, latitude, longitude, device_id):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    user_id,
    venue_id,
    note,
    visibility,
    latitude,
    longitude,
    device_id,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('tagme_db', 'tagme_db__tags') }}
