-- ledger_db.accounts as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). No PII column (user ids only):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    user_id,
    account_number,
    account_type,
    currency,
    status,
    opened_at,
    closed_at,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('ledger_db', 'ledger_db__accounts') }}
