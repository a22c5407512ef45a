-- tagme_db.venues as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). No PII column (user ids only):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    name,
    category,
    city,
    province,
    latitude,
    longitude,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('tagme_db', 'tagme_db__venues') }}
