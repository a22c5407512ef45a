{#-
  Every money event of every app in one shape (app, event, user_hash, day, amount, revenue), the
  input of agg_revenue_daily_app_country. Revenue per app: ledger = posted fees; sdpkt =
  authorised or settled payments; bidbaas = auction fee revenue; takemehome = completed trips;
  slepton = bookings not cancelled; butler = completed tasks; transit = fares. Events that are
  not (or no longer) revenue stay with revenue 0, so a status change replaces the old row.
-#}
{{ config(
    materialized='incremental',
    unique_key=['app', 'event_id'],
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=incremental_indexes(['app', 'event_id'], event_column='event_date'),
) }}

with events as (
    select 'ledger' as app, transaction_id::text as event_id, user_hash, created_at, currency,
           case when txn_type = 'fee' and status = 'posted' then amount else 0 end as revenue, _extracted_at
    from {{ ref('int_ledger_transactions_anon') }} where {{ incremental_since() }}
    union all
    select 'sdpkt', payment_id::text, user_hash, created_at, currency,
           case when status in ('authorised', 'settled') then amount else 0 end, _extracted_at
    from {{ ref('int_sdpkt_payments_anon') }} where {{ incremental_since() }}
    union all
    select 'bidbaas', auction_id::text, winner_hash, coalesce(won_at, created_at), coalesce(winning_currency, currency),
           coalesce(fee_revenue, 0), _extracted_at
    from {{ ref('int_bidbaas_auctions_anon') }} where {{ incremental_since() }}
    union all
    select 'takemehome', trip_id::text, rider_hash, created_at, currency,
           case when status = 'completed' then coalesce(amount, 0) else 0 end, _extracted_at
    from {{ ref('int_takemehome_trips_anon') }} where {{ incremental_since() }}
    union all
    select 'slepton', booking_id::text, guest_hash, created_at, currency,
           case when status <> 'cancelled' then amount else 0 end, _extracted_at
    from {{ ref('int_slepton_bookings_anon') }} where {{ incremental_since() }}
    union all
    select 'butler', task_id::text, user_hash, created_at, currency,
           case when status = 'completed' then coalesce(amount, 0) else 0 end, _extracted_at
    from {{ ref('int_butler_tasks_anon') }} where {{ incremental_since() }}
    union all
    select 'transit', tap_id::text, coalesce(user_hash, card_hash), created_at, currency, amount, _extracted_at
    from {{ ref('int_transit_taps_anon') }} where {{ incremental_since() }}
)

select
    app,
    event_id,
    user_hash,
    {{ fx_date('created_at') }} as event_date,
    created_at,
    currency,
    revenue,
    _extracted_at
from events
