-- bigbruh_db.page_views as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). PII still here (ip_address, device_id, user_agent):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    user_id,
    path,
    referrer,
    ip_address,
    device_id,
    user_agent,
    duration_ms,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('bigbruh_db', 'bigbruh_db__page_views') }}
