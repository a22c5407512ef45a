-- sdpkt_db.payments as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). PII still here (device_id, ip_address, latitude, longitude):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    payment_ref,
    wallet_id,
    user_id,
    merchant_user_id,
    merchant_name,
    amount,
    currency,
    status,
    channel,
    device_id,
    ip_address,
    latitude,
    longitude,
    metadata,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('sdpkt_db', 'sdpkt_db__payments') }}
