{#-
  TEST FIXTURE (--vars '{enable_source_rule_fixtures: true}'): the same `description` column, built
  from ledger_db.transactions, whose registry entry marks `description` as PII (free_text): the
  guard must stop it by its name alone.
-#}
{{ config(enabled=var('enable_source_rule_fixtures', false), schema='intermediate', materialized='table') }}

select 1 as id, 'fx rate of the day'::text as description
from {{ ref('stg_ledger_db__transactions') }}
limit 1
