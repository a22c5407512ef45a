-- trustseal_db.certificates as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). No PII column (user ids only):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    owner_user_id,
    business_name,
    seal_level,
    issued_at,
    expires_at,
    revoked_at,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('trustseal_db', 'trustseal_db__certificates') }}
