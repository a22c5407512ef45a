-- ledger_db.transactions as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). PII still here (description):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    txn_ref,
    account_id,
    user_id,
    txn_type,
    status,
    amount,
    currency,
    description,
    channel,
    metadata,
    posted_at,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('ledger_db', 'ledger_db__transactions') }}
