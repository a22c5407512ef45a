-- bidbaas_db.payouts as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). No PII column (user ids only):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    auction_id,
    seller_user_id,
    amount,
    currency,
    fee_percent,
    status,
    paid_at,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('bidbaas_db', 'bidbaas_db__payouts') }}
