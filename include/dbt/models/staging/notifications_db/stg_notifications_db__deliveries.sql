-- notifications_db.deliveries as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). PII still here (recipient_email, recipient_phone):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    user_id,
    channel,
    template,
    recipient_email,
    recipient_phone,
    status,
    metadata,
    sent_at,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('notifications_db', 'notifications_db__deliveries') }}
