-- auth_db.logins as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). PII still here (ip_address, device_id, user_agent):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    user_id,
    succeeded,
    method,
    ip_address,
    device_id,
    user_agent,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('auth_db', 'auth_db__logins') }}
