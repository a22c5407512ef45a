-- sdpkt_db.holds as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). No PII column (user ids only):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    wallet_id,
    user_id,
    payment_id,
    amount,
    currency,
    status,
    expires_at,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('sdpkt_db', 'sdpkt_db__holds') }}
