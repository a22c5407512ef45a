{#- txtme_db.messages, anonymised: sender hashed, recipient phone hashed (phone key), body dropped (its length kept). -#}
{{ config(
    materialized='incremental',
    unique_key='message_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=incremental_indexes('message_id'),
) }}

with src as (
    select * from {{ ref('stg_txtme_db__messages') }}
    where {{ incremental_since() }}
)

select
    src.id as message_id,
    src.conversation_id,
    uh.hash as sender_hash,
    ph.hash as recipient_phone_hash,
    src.message_type,
    src.status,
    length(src.body) as message_length,
    src.sent_at,
    src.delivered_at,
    src.created_at,
    src.updated_at,
    src._extracted_at
from src
left join {{ hash_lookup('user', ['src.sender_user_id']) }} as uh on uh.value = src.sender_user_id::text
left join {{ hash_lookup('phone', ['src.recipient_phone']) }} as ph on ph.value = src.recipient_phone
