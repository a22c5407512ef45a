{#-
  TEST FIXTURE: depends on mart_without_contract; proves a mart without its contract stops only
  itself and its dependants (this model is skipped), not the rest of the build.
-#}
{{ config(enabled=var('enable_contract_violation', false), schema='marts', materialized='view') }}

select id from {{ ref('mart_without_contract') }}
