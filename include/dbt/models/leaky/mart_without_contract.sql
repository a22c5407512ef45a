{#-
  TEST FIXTURE: a mart with no description, owner, compliance class or key tests. Disabled unless
  --vars '{enable_contract_violation: true}'; proves the contract check fails the build.
-#}
{{ config(enabled=var('enable_contract_violation', false), schema='marts', materialized='view') }}

select 1 as id
