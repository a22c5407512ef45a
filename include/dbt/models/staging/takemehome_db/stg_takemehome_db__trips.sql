-- takemehome_db.trips as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). PII still here (pickup_address, pickup_latitude, pickup_longitude, dropoff_address, dropoff_latitude, dropoff_longitude):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    rider_user_id,
    driver_id,
    pickup_address,
    pickup_latitude,
    pickup_longitude,
    dropoff_address,
    dropoff_latitude,
    dropoff_longitude,
    distance_km,
    amount,
    currency,
    status,
    requested_at,
    completed_at,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('takemehome_db', 'takemehome_db__trips') }}
