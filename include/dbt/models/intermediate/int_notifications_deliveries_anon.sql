{#- notifications_db.deliveries, anonymised: user hashed; recipient email and phone dropped (locale kept). -#}
{{ config(
    materialized='incremental',
    unique_key='delivery_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=incremental_indexes('delivery_id'),
) }}

with src as (
    select * from {{ ref('stg_notifications_db__deliveries') }}
    where {{ incremental_since() }}
)

select
    src.id as delivery_id,
    uh.hash as user_hash,
    src.channel,
    src.template,
    src.status,
    src.metadata ->> 'locale' as locale,
    src.sent_at,
    src.created_at,
    src.updated_at,
    src._extracted_at
from src
left join {{ hash_lookup('user', ['src.user_id']) }} as uh on uh.value = src.user_id::text
