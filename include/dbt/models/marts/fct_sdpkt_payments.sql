{#- Every SDPKT payment with hashed payer and merchant, FX-normalised. Incremental. -#}
{{ config(
    materialized='incremental',
    unique_key='payment_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=incremental_indexes('payment_id'),
) }}

with p as (
    select * from {{ ref('int_sdpkt_payments_anon') }}
    where {{ incremental_since() }}
)

select
    p.payment_id,
    p.payment_ref,
    p.user_hash,
    p.merchant_hash,
    p.status,
    p.channel,
    p.sdk,
    p.currency,
    p.amount,
    {{ fx_columns('p.amount', 'p.currency', 'fx') }},
    {{ fx_date('p.created_at') }} as event_date,
    extract(isodow from p.created_at at time zone 'Africa/Johannesburg')::int as day_of_week,
    extract(hour from p.created_at at time zone 'Africa/Johannesburg')::int as hour_of_day,
    p.created_at,
    p.updated_at,
    p._extracted_at
from p
left join {{ ref('dim_fx_rates_daily') }} as fx on fx.rate_date = {{ fx_date('p.created_at') }}
