{#-
  sdpkt_db.payments, anonymised (runbook 2.6): payer and merchant hashed with the user key
  (merchants are users), device hashed; IP, exact location, merchant name (often a surname)
  and wallet ids dropped.
-#}
{{ config(
    materialized='incremental',
    unique_key='payment_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=incremental_indexes('payment_id'),
) }}

with src as (
    select * from {{ ref('stg_sdpkt_db__payments') }}
    where {{ incremental_since() }}
),

users as {{ hash_lookup('user', ['src.user_id', 'src.merchant_user_id']) }}

select
    src.id as payment_id,
    src.payment_ref,
    payer.hash as user_hash,
    merchant.hash as merchant_hash,
    src.amount,
    src.currency,
    src.status,
    src.channel,
    dh.hash as device_hash,
    src.metadata ->> 'sdk' as sdk,
    src.created_at,
    src.updated_at,
    src._extracted_at
from src
left join users as payer on payer.value = src.user_id::text
-- merchant_hash is required: a payment to a forgotten merchant (no hash: tombstone) is dropped
join users as merchant on merchant.value = src.merchant_user_id::text
left join {{ hash_lookup('device', ['src.device_id']) }} as dh on dh.value = src.device_id
