{#-
  TEST FIXTURE (runbook 2.3 verification): a deliberately leaky "intermediate" model. Disabled
  unless --vars '{enable_leaky_model: true}'; tests/test_dbt_pii.py proves that the PII guard
  fails it (and, with leaky_pii_guard: false, that the PII tests fail) and that its downstream
  model is skipped. Never enabled in Airflow (the transform DAG also excludes models/leaky).
-#}
{{ config(
    enabled=var('enable_leaky_model', false),
    materialized='table',
    pii_guard=var('leaky_pii_guard', true),
) }}

select
    id as user_ref,
    email as contact,
    phone as mobile,
    first_name || ' ' || last_name as holder,
    sa_id_number as reference_code
from {{ ref('stg_auth_db__users') }}
limit 50
