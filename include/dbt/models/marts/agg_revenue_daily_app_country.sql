{#-
  Daily revenue per (app, country): event and user counts and revenue in ZAR, USD and BTC sats.
  Small cells are suppressed here: a (day, app, country) cell with fewer than k distinct users is
  folded into country 'ZZ' (other) of the same day and app; an 'other' cell still below k is left
  out. Incremental by day: the days touched by newly extracted events are recomputed.
-#}
{{ config(
    materialized='incremental',
    unique_key='revenue_date',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['revenue_date', 'app', 'country_code'], 'unique': true}, {'columns': ['_inputs_extracted_at']}],
) }}

{%- set k = var('k_anonymity') %}

with changed_days as (
    select distinct event_date
    from {{ ref('int_revenue_events') }}
    where {{ incremental_since('_extracted_at', '_inputs_extracted_at') }}
    {%- for day in var('rtbf_recompute_days', []) %}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', day | string) %}
    {{ exceptions.raise_compiler_error('rtbf_recompute_days: not a date: ' ~ day) }}
    {%- endif %}
    {%- if loop.first %}
    union  -- right-to-be-forgotten: the days a forgotten user counted in (plugins/dataacuity/rtbf.py)
    select d from unnest(array[{% endif %}'{{ day }}'::date{% if not loop.last %}, {% else %}]) as d{% endif %}
    {%- endfor %}
),

events as (
    select e.*
    from {{ ref('int_revenue_events') }} as e
    join changed_days as d on d.event_date = e.event_date
),

enriched as (
    select
        e.event_date,
        e.app,
        coalesce(u.country_code, 'ZZ') as country_code,
        e.user_hash,
        e.revenue,
        {{ fx_columns('e.revenue', 'e.currency', 'fx', prefix='revenue') }},
        e._extracted_at
    from events as e
    left join {{ ref('int_users_anon') }} as u on u.user_hash = e.user_hash
    left join {{ ref('dim_fx_rates_daily') }} as fx on fx.rate_date = e.event_date
),

cells as (
    select event_date, app, country_code, count(distinct user_hash) as users
    from enriched
    group by event_date, app, country_code
),

folded as (
    select
        e.event_date,
        e.app,
        case when c.users >= {{ k }} then e.country_code else 'ZZ' end as country_code,
        e.user_hash,
        e.revenue_zar,
        e.revenue_usd,
        e.revenue_btc_sats,
        e._extracted_at
    from enriched as e
    join cells as c using (event_date, app, country_code)
)

select
    event_date as revenue_date,
    app,
    country_code,
    count(*) as event_count,
    count(distinct user_hash) as user_count,
    coalesce(sum(revenue_zar), 0) as revenue_zar,
    coalesce(sum(revenue_usd), 0) as revenue_usd,
    coalesce(sum(revenue_btc_sats), 0)::bigint as revenue_btc_sats,
    max(_extracted_at) as _inputs_extracted_at
from folded
group by event_date, app, country_code
having count(distinct user_hash) >= {{ k }}
