-- trustseal_db.reviews as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). PII still here (body):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    reviewer_user_id,
    certificate_id,
    rating,
    body,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('trustseal_db', 'trustseal_db__reviews') }}
