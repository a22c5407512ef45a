{#-
  bidbaas_db.auctions with their bids, winner and payout, anonymised (runbook 2.7): one row per
  auction; seller and winner hashed; the free-text title and description dropped (category kept).
  Incremental on any change: an auction is rebuilt when it, one of its bids, its winner or its
  payout was extracted since the last run.
-#}
{{ config(
    materialized='incremental',
    unique_key='auction_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=incremental_indexes('auction_id'),
) }}

with changed as (
    select id as auction_id from {{ ref('stg_bidbaas_db__auctions') }} where {{ incremental_since() }}
    union
    select auction_id from {{ ref('int_bidbaas_bids_anon') }} where {{ incremental_since() }}
    union
    select auction_id from {{ ref('stg_bidbaas_db__winners') }} where {{ incremental_since() }}
    union
    select auction_id from {{ ref('stg_bidbaas_db__payouts') }} where {{ incremental_since() }}
),

auctions as (
    select a.* from {{ ref('stg_bidbaas_db__auctions') }} as a join changed on changed.auction_id = a.id
),

bids as (
    select b.auction_id, count(*) as bid_count, count(distinct b.user_hash) as bidder_count,
           max(b._extracted_at) as _extracted_at
    from {{ ref('int_bidbaas_bids_anon') }} as b
    join changed using (auction_id)
    group by b.auction_id
),

winners as (
    select w.* from {{ ref('stg_bidbaas_db__winners') }} as w join changed using (auction_id)
),

payouts as (
    select distinct on (p.auction_id) p.*
    from {{ ref('stg_bidbaas_db__payouts') }} as p
    join changed using (auction_id)
    order by p.auction_id, p.created_at desc
),

users as {{ hash_lookup('user', ['auctions.seller_user_id', 'winners.user_id']) }}

select
    a.id as auction_id,
    seller.hash as seller_hash,
    a.category,
    a.status,
    a.amount as reserve_amount,
    a.currency,
    a.starts_at,
    a.ends_at,
    coalesce(bids.bid_count, 0) as bid_count,
    coalesce(bids.bidder_count, 0) as bidder_count,
    winner.hash as winner_hash,
    w.amount as winning_amount,
    w.currency as winning_currency,
    w.won_at,
    p.amount as payout_amount,
    p.fee_percent,
    round(w.amount * p.fee_percent / 100, 2) as fee_revenue,
    p.status as payout_status,
    p.paid_at,
    a.created_at,
    a.updated_at,
    greatest(a._extracted_at, bids._extracted_at, w._extracted_at, p._extracted_at) as _extracted_at
from auctions as a
left join bids on bids.auction_id = a.id
left join winners as w on w.auction_id = a.id
left join payouts as p on p.auction_id = a.id
left join users as seller on seller.value = a.seller_user_id::text
left join users as winner on winner.value = w.user_id::text
