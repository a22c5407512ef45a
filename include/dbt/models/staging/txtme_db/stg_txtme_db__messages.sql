-- txtme_db.messages as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). PII still here (recipient_phone, body):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    conversation_id,
    sender_user_id,
    recipient_phone,
    body,
    message_type,
    status,
    sent_at,
    delivered_at,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('txtme_db', 'txtme_db__messages') }}
