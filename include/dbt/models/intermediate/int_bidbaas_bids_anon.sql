{#- bidbaas_db.bids, anonymised: bidder and device hashed, IP dropped. Feeds the auction rollup. -#}
{{ config(
    materialized='incremental',
    unique_key='bid_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=incremental_indexes('bid_id', extra=[['auction_id']]),
) }}

with src as (
    select * from {{ ref('stg_bidbaas_db__bids') }}
    where {{ incremental_since() }}
)

select
    src.id as bid_id,
    src.auction_id,
    uh.hash as user_hash,
    src.amount,
    src.currency,
    dh.hash as device_hash,
    src.created_at,
    src.updated_at,
    src._extracted_at
from src
left join {{ hash_lookup('user', ['src.user_id']) }} as uh on uh.value = src.user_id::text
left join {{ hash_lookup('device', ['src.device_id']) }} as dh on dh.value = src.device_id
