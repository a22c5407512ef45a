{#- Markets' rate board: latest rand rate per currency and its change over 7 days. No personal data. -#}
{{ config(materialized='table') }}

with latest as (
    select max(rate_date) as rate_date from {{ ref('dim_fx_rates_daily') }} where not is_carried_forward
)

select
    c.currency,
    l.rate_date,
    c.zar_per_unit,
    c.zar_per_unit - p.zar_per_unit as change_7d
from latest as l
cross join lateral (
    values ('USD', (select zar_per_usd from {{ ref('dim_fx_rates_daily') }} where rate_date = l.rate_date)),
           ('EUR', (select zar_per_eur from {{ ref('dim_fx_rates_daily') }} where rate_date = l.rate_date)),
           ('GBP', (select zar_per_gbp from {{ ref('dim_fx_rates_daily') }} where rate_date = l.rate_date)),
           ('BTC', (select zar_per_btc from {{ ref('dim_fx_rates_daily') }} where rate_date = l.rate_date))
) as c(currency, zar_per_unit)
left join lateral (
    values ('USD', (select zar_per_usd from {{ ref('dim_fx_rates_daily') }} where rate_date = l.rate_date - 7)),
           ('EUR', (select zar_per_eur from {{ ref('dim_fx_rates_daily') }} where rate_date = l.rate_date - 7)),
           ('GBP', (select zar_per_gbp from {{ ref('dim_fx_rates_daily') }} where rate_date = l.rate_date - 7)),
           ('BTC', (select zar_per_btc from {{ ref('dim_fx_rates_daily') }} where rate_date = l.rate_date - 7))
) as p(currency, zar_per_unit) on p.currency = c.currency
where l.rate_date is not null
