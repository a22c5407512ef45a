{#- markets_db.fx_rates (no personal data): one row per day and currency, ZAR per unit. -#}
{{ config(materialized='table', indexes=[{'columns': ['rate_date', 'currency'], 'unique': true}]) }}

select
    rate_date,
    upper(currency) as currency,
    zar_per_unit,
    source as rate_source,
    updated_at,
    _extracted_at
from {{ ref('stg_markets_db__fx_rates') }}
