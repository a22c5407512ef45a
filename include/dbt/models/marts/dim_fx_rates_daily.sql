{#-
  One row per calendar day from the first rate to a week ahead: rand per USD, EUR, GBP and BTC
  (markets_db.fx_rates). Days without a published rate carry the last known rate forward and
  are flagged. Used by every monetary fact for amount_zar / amount_usd / amount_btc_sats.
-#}
{{ config(materialized='table', indexes=[{'columns': ['rate_date'], 'unique': true}]) }}

with rates as (
    select rate_date, currency, zar_per_unit
    from {{ ref('int_markets_fx_rates') }}
    where currency in ('USD', 'EUR', 'GBP', 'BTC')
),

days as (
    select d::date as rate_date
    from generate_series(
        (select min(rate_date) from rates),
        greatest((select max(rate_date) from rates), current_date + 7),
        interval '1 day'
    ) as d
),

filled as (
    select
        days.rate_date,
        c.currency,
        last_rate.zar_per_unit,
        last_rate.rate_date = days.rate_date as is_exact
    from days
    cross join (values ('USD'), ('EUR'), ('GBP'), ('BTC')) as c(currency)
    left join lateral (
        select r.rate_date, r.zar_per_unit
        from rates as r
        where r.currency = c.currency and r.rate_date <= days.rate_date
        order by r.rate_date desc
        limit 1
    ) as last_rate on true
)

select
    rate_date,
    max(zar_per_unit) filter (where currency = 'USD') as zar_per_usd,
    max(zar_per_unit) filter (where currency = 'EUR') as zar_per_eur,
    max(zar_per_unit) filter (where currency = 'GBP') as zar_per_gbp,
    max(zar_per_unit) filter (where currency = 'BTC') as zar_per_btc,
    not coalesce(bool_and(is_exact), false) as is_carried_forward
from filled
group by rate_date
