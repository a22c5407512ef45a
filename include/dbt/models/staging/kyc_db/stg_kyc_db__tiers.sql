-- kyc_db.tiers as extracted: one row per primary key (tier; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). No PII column (user ids only):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    tier,
    name,
    amount,
    currency,
    description,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('kyc_db', 'kyc_db__tiers') }}
