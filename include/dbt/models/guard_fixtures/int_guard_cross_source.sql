{#-
  TEST FIXTURE (--vars '{enable_source_rule_fixtures: true}'): a `description` column built from
  markets_db only, where the registry does NOT mark `description` as PII (ledger_db does). Per-source
  rules: it must pass the guard and the PII tests.
-#}
{{ config(enabled=var('enable_source_rule_fixtures', false), schema='intermediate', materialized='table') }}

select 1 as id, 'fx rate of the day'::text as description
from {{ ref('stg_markets_db__fx_rates') }}
limit 1
