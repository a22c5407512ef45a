{#-
  TEST FIXTURE (issue 10 §2: the analytics schema is guarded like marts): a model in analytics that
  carries each user's device id under a harmless name. Disabled unless --vars '{enable_leaky_formats: true}'.
-#}
{{ config(
    enabled=var('enable_leaky_formats', false),
    schema='analytics',
    materialized='table',
    pii_guard=var('leaky_pii_guard', true),
) }}

select id as row_id, device_id as cohort_tag
from {{ ref('stg_auth_db__users') }}
