{#-
  One row per (not deleted) user: 30-day activity across the apps, keyed by user_hash.
  k-anonymity >= var('k_anonymity') over the quasi-identifiers (age_band, province,
  country_code) is enforced here, not only tested: a user whose (age_band, province, country)
  cell is too small loses the province; if (age_band, country) is still too small, the age
  band; a user still in a cell below k is left out. Suppressed values are NULL.
  Rebuilt each run: the cost follows 30 days of events (indexed on created_at).
-#}
{{ config(materialized='table', indexes=[{'columns': ['user_hash'], 'unique': true}]) }}

{%- set k = var('k_anonymity') %}

with window_start as (
    select now() - interval '30 days' as since
),

users as (
    select
        user_hash,
        country_code,
        province,
        case
            when birth_year is null then null
            when extract(year from current_date) - birth_year < 25 then '18-24'
            when extract(year from current_date) - birth_year < 35 then '25-34'
            when extract(year from current_date) - birth_year < 45 then '35-44'
            when extract(year from current_date) - birth_year < 55 then '45-54'
            when extract(year from current_date) - birth_year < 65 then '55-64'
            else '65+'
        end as age_band,
        kyc_tier,
        signup_date
    from {{ ref('int_users_anon') }}
    where not is_deleted
),

ledger as (
    select user_hash, count(*) as ledger_transactions_30d, sum(amount_zar) as ledger_value_zar_30d
    from {{ ref('fct_ledger_transactions_anon') }}, window_start
    where created_at >= since and status = 'posted'
    group by user_hash
),

sdpkt as (
    select user_hash, count(*) as sdpkt_payments_30d, sum(amount_zar) as sdpkt_spend_zar_30d
    from {{ ref('fct_sdpkt_payments') }}, window_start
    where created_at >= since and status in ('authorised', 'settled')
    group by user_hash
),

bids as (
    select user_hash, count(*) as bidbaas_bids_30d
    from {{ ref('int_bidbaas_bids_anon') }}, window_start
    where created_at >= since
    group by user_hash
),

won as (
    select winner_hash as user_hash, count(*) as bidbaas_auctions_won_30d
    from {{ ref('fct_bidbaas_auctions') }}, window_start
    where won_at >= since and winner_hash is not null
    group by winner_hash
),

activity as (
    select user_hash, 'tagme' as app, count(*) as n
    from {{ ref('int_tagme_tags_anon') }}, window_start where created_at >= since group by user_hash
    union all
    select sender_hash, 'txtme', count(*)
    from {{ ref('int_txtme_messages_anon') }}, window_start where created_at >= since group by sender_hash
    union all
    select rider_hash, 'takemehome', count(*)
    from {{ ref('int_takemehome_trips_anon') }}, window_start where created_at >= since group by rider_hash
    union all
    select user_hash, 'whatwewant', count(*)
    from {{ ref('int_whatwewant_wishes_anon') }}, window_start where created_at >= since group by user_hash
    union all
    select guest_hash, 'slepton', count(*)
    from {{ ref('int_slepton_bookings_anon') }}, window_start where created_at >= since group by guest_hash
    union all
    select user_hash, 'bigbruh', count(*)
    from {{ ref('int_bigbruh_page_views_anon') }}, window_start where created_at >= since group by user_hash
    union all
    select user_hash, 'butler', count(*)
    from {{ ref('int_butler_tasks_anon') }}, window_start where created_at >= since group by user_hash
    union all
    select user_hash, 'transit', count(*)
    from {{ ref('int_transit_taps_anon') }}, window_start where created_at >= since and user_hash is not null
    group by user_hash
    union all
    select user_hash, 'ledger', ledger_transactions_30d from ledger
    union all
    select user_hash, 'sdpkt', sdpkt_payments_30d from sdpkt
    union all
    select user_hash, 'bidbaas', bidbaas_bids_30d from bids
),

per_user as (
    select
        user_hash,
        count(distinct app) filter (where n > 0) as apps_active_30d,
        sum(n) filter (where app = 'tagme')::int as tagme_tags_30d,
        sum(n) filter (where app = 'txtme')::int as txtme_messages_30d,
        sum(n) filter (where app = 'takemehome')::int as takemehome_trips_30d,
        sum(n) filter (where app = 'whatwewant')::int as whatwewant_wishes_30d,
        sum(n) filter (where app = 'slepton')::int as slepton_bookings_30d,
        sum(n) filter (where app = 'bigbruh')::int as bigbruh_page_views_30d,
        sum(n) filter (where app = 'butler')::int as butler_tasks_30d,
        sum(n) filter (where app = 'transit')::int as transit_taps_30d
    from activity
    group by user_hash
),

joined as (
    select
        u.user_hash,
        u.age_band,
        u.province,
        u.country_code,
        u.kyc_tier,
        coalesce(p.apps_active_30d, 0) as apps_active_30d,
        coalesce(l.ledger_transactions_30d, 0) as ledger_transactions_30d,
        coalesce(l.ledger_value_zar_30d, 0) as ledger_value_zar_30d,
        coalesce(s.sdpkt_payments_30d, 0) as sdpkt_payments_30d,
        coalesce(s.sdpkt_spend_zar_30d, 0) as sdpkt_spend_zar_30d,
        coalesce(b.bidbaas_bids_30d, 0) as bidbaas_bids_30d,
        coalesce(w.bidbaas_auctions_won_30d, 0) as bidbaas_auctions_won_30d,
        coalesce(p.tagme_tags_30d, 0) as tagme_tags_30d,
        coalesce(p.txtme_messages_30d, 0) as txtme_messages_30d,
        coalesce(p.takemehome_trips_30d, 0) as takemehome_trips_30d,
        coalesce(p.whatwewant_wishes_30d, 0) as whatwewant_wishes_30d,
        coalesce(p.slepton_bookings_30d, 0) as slepton_bookings_30d,
        coalesce(p.bigbruh_page_views_30d, 0) as bigbruh_page_views_30d,
        coalesce(p.butler_tasks_30d, 0) as butler_tasks_30d,
        coalesce(p.transit_taps_30d, 0) as transit_taps_30d
    from users as u
    left join per_user as p on p.user_hash = u.user_hash
    left join ledger as l on l.user_hash = u.user_hash
    left join sdpkt as s on s.user_hash = u.user_hash
    left join bids as b on b.user_hash = u.user_hash
    left join won as w on w.user_hash = u.user_hash
),

-- small-cell suppression, step by step (generalise province, then age band, then leave out)
step1 as (
    select *, count(*) over (partition by age_band, province, country_code) as cell1 from joined
),

step2 as (
    select *, count(*) over (partition by age_band, province_kept, country_code) as cell2
    from (
        select *, case when cell1 >= {{ k }} then province end as province_kept from step1
    ) as s
),

step3 as (
    select *, count(*) over (partition by age_band_kept, province_kept, country_code) as cell3
    from (
        select *, case when cell2 >= {{ k }} then age_band end as age_band_kept from step2
    ) as s
)

select
    user_hash,
    age_band_kept as age_band,
    province_kept as province,
    country_code,
    kyc_tier,
    apps_active_30d,
    ledger_transactions_30d,
    ledger_value_zar_30d,
    sdpkt_payments_30d,
    sdpkt_spend_zar_30d,
    bidbaas_bids_30d,
    bidbaas_auctions_won_30d,
    tagme_tags_30d,
    txtme_messages_30d,
    takemehome_trips_30d,
    whatwewant_wishes_30d,
    slepton_bookings_30d,
    bigbruh_page_views_30d,
    butler_tasks_30d,
    transit_taps_30d,
    now() as built_at
from step3
where cell3 >= {{ k }}
