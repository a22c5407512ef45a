-- bidbaas_db.auctions as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). PII still here (description):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    seller_user_id,
    title,
    description,
    category,
    amount,
    currency,
    status,
    starts_at,
    ends_at,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('bidbaas_db', 'bidbaas_db__auctions') }}
