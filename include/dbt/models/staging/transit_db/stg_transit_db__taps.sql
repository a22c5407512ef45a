-- transit_db.taps as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). PII still here (card_uid, latitude, longitude):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    card_uid,
    user_id,
    route_id,
    stop_name,
    direction,
    latitude,
    longitude,
    amount,
    currency,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('transit_db', 'transit_db__taps') }}
