{#-
  BidBaas "your bids this week" (runbook 3.5): one row per bidder, from BidBaas' own bids and
  auctions only. Pushed to analytics_db.bidbaas.user_summary keyed by BidBaas' own user id.
  active_bidders_this_week is a marketplace figure: shown only when at least k bidders are active.
-#}
{{ config(materialized='table') }}

with bids as (
    select b.user_hash, b.auction_id, b.amount, b.currency, b.created_at,
           round(b.amount * {{ zar_factor('b.currency', 'fx') }}, 2) as amount_zar
    from {{ ref('int_bidbaas_bids_anon') }} as b
    left join {{ ref('dim_fx_rates_daily') }} as fx on fx.rate_date = {{ fx_date('b.created_at') }}
    where b.user_hash is not null
),

week as (
    select * from bids where created_at >= {{ week_start() }}
),

won as (
    select a.winner_hash as user_hash,
           count(*) filter (where a.won_at >= {{ week_start() }})::bigint as auctions_won_this_week,
           count(*)::bigint as auctions_won_total
    from {{ ref('fct_bidbaas_auctions') }} as a
    where a.winner_hash is not null
    group by a.winner_hash
),

market as (
    select count(distinct user_hash) as bidders from week
)

select
    u.user_hash,
    coalesce(w.bids_this_week, 0)::bigint as bids_this_week,
    coalesce(w.auctions_bid_this_week, 0)::bigint as auctions_bid_this_week,
    coalesce(w.amount_bid_zar_this_week, 0)::numeric(18, 2) as amount_bid_zar_this_week,
    w.highest_bid_zar_this_week,
    w.last_bid_at_this_week,
    coalesce(won.auctions_won_this_week, 0)::bigint as auctions_won_this_week,
    coalesce(won.auctions_won_total, 0)::bigint as auctions_won_total,
    u.bids_total,
    u.last_bid_at,
    case when m.bidders >= {{ var('k_anonymity') }} then m.bidders end::bigint as active_bidders_this_week
from (
    select user_hash, count(*)::bigint as bids_total, max(created_at) as last_bid_at from bids group by user_hash
) as u
left join (
    select user_hash,
           count(*) as bids_this_week,
           count(distinct auction_id) as auctions_bid_this_week,
           sum(amount_zar) as amount_bid_zar_this_week,
           max(amount_zar)::numeric(18, 2) as highest_bid_zar_this_week,
           max(created_at) as last_bid_at_this_week
    from week group by user_hash
) as w on w.user_hash = u.user_hash
left join won on won.user_hash = u.user_hash
cross join market as m
