{#- Every ledger transaction with the hashed user, FX-normalised and time-enriched. Incremental. -#}
{{ config(
    materialized='incremental',
    unique_key='transaction_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=incremental_indexes('transaction_id'),
) }}

with t as (
    select * from {{ ref('int_ledger_transactions_anon') }}
    where {{ incremental_since() }}
)

select
    t.transaction_id,
    t.txn_ref,
    t.user_hash,
    t.txn_type,
    t.status,
    t.channel,
    t.app_version,
    t.currency,
    t.amount,
    {{ fx_columns('t.amount', 't.currency', 'fx') }},
    {{ fx_date('t.created_at') }} as event_date,
    extract(isodow from t.created_at at time zone 'Africa/Johannesburg')::int as day_of_week,
    extract(hour from t.created_at at time zone 'Africa/Johannesburg')::int as hour_of_day,
    extract(isodow from t.created_at at time zone 'Africa/Johannesburg') in (6, 7) as is_weekend,
    t.posted_at,
    t.created_at,
    t.updated_at,
    t._extracted_at
from t
left join {{ ref('dim_fx_rates_daily') }} as fx on fx.rate_date = {{ fx_date('t.created_at') }}
