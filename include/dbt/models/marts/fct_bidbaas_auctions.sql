{#- One row per BidBaas auction: seller and winner hashes, winning amount and fee revenue, FX-normalised. Incremental. -#}
{{ config(
    materialized='incremental',
    unique_key='auction_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=incremental_indexes('auction_id'),
) }}

with a as (
    select * from {{ ref('int_bidbaas_auctions_anon') }}
    where {{ incremental_since() }}
)

select
    a.auction_id,
    a.seller_hash,
    a.winner_hash,
    a.category,
    a.status,
    a.bid_count,
    a.bidder_count,
    coalesce(a.winning_currency, a.currency) as currency,
    a.reserve_amount,
    a.winning_amount as amount,
    {{ fx_columns('a.winning_amount', 'coalesce(a.winning_currency, a.currency)', 'fx') }},
    a.fee_percent,
    a.fee_revenue as revenue,
    {{ fx_columns('a.fee_revenue', 'coalesce(a.winning_currency, a.currency)', 'fx', prefix='revenue') }},
    a.payout_status,
    a.starts_at,
    a.ends_at,
    a.won_at,
    a.paid_at,
    {{ fx_date('coalesce(a.won_at, a.created_at)') }} as event_date,
    a.created_at,
    a.updated_at,
    a._extracted_at
from a
left join {{ ref('dim_fx_rates_daily') }} as fx on fx.rate_date = {{ fx_date('coalesce(a.won_at, a.created_at)') }}
