-- txtme_db.contacts as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). PII still here (display_name, phone, email):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    owner_user_id,
    display_name,
    phone,
    email,
    is_favourite,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('txtme_db', 'txtme_db__contacts') }}
