-- kyc_db.verifications as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). PII still here (id_number, date_of_birth, reviewer_note):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    user_id,
    tier,
    document_type,
    id_number,
    date_of_birth,
    status,
    reviewer_note,
    decided_at,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('kyc_db', 'kyc_db__verifications') }}
