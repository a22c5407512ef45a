-- bidbaas_db.bids as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). PII still here (device_id, ip_address):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    auction_id,
    user_id,
    amount,
    currency,
    device_id,
    ip_address,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('bidbaas_db', 'bidbaas_db__bids') }}
