{#-
  TEST FIXTURE: a model OUTSIDE models/leaky/ that switches the PII guard off in its own config.
  Disabled unless --vars '{enable_guard_override: true}'; proves the switch is ignored (the guard
  still checks it) and the model fails its contract: only models/leaky/ may run unguarded.
-#}
{{ config(enabled=var('enable_guard_override', false), schema='intermediate', materialized='table', pii_guard=false) }}

select 1 as id, 'thandi.nkosi@example.co.za'::text as contact
