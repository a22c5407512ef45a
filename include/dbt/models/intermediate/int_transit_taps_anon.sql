{#- transit_db.taps with their route, anonymised: card uid hashed (device key), user hashed when known; exact location dropped. -#}
{{ config(
    materialized='incremental',
    unique_key='tap_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=incremental_indexes('tap_id'),
) }}

with src as (
    select * from {{ ref('stg_transit_db__taps') }}
    where {{ incremental_since() }}
)

select
    src.id as tap_id,
    ch.hash as card_hash,
    uh.hash as user_hash,
    src.route_id,
    r.route_code,
    r.transport_mode,
    r.city,
    src.stop_name,
    src.direction,
    src.amount,
    src.currency,
    src.created_at,
    src.updated_at,
    src._extracted_at
from src
left join {{ ref('stg_transit_db__routes') }} as r on r.id = src.route_id
-- card_hash is required: a tap of a forgotten user's card (no hash: tombstone) is dropped
join {{ hash_lookup('device', ['src.card_uid']) }} as ch on ch.value = src.card_uid
left join {{ hash_lookup('user', ['src.user_id']) }} as uh on uh.value = src.user_id::text
