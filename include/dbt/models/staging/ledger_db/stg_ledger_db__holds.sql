-- ledger_db.holds as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). No PII column (user ids only):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    account_id,
    user_id,
    transaction_id,
    amount,
    currency,
    reason,
    status,
    expires_at,
    released_at,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('ledger_db', 'ledger_db__holds') }}
