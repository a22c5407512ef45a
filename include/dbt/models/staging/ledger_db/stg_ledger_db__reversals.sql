-- ledger_db.reversals as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). PII still here (reason):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    transaction_id,
    user_id,
    amount,
    currency,
    reason,
    initiated_by,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('ledger_db', 'ledger_db__reversals') }}
