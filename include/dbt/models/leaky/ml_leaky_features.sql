{#-
  TEST FIXTURE (issue 10 §2: the ml schema is guarded like marts): a model in ml that
  carries an unkeyed md5 of each user's e-mail under a harmless name. Disabled unless --vars '{enable_leaky_formats: true}'.
-#}
{{ config(
    enabled=var('enable_leaky_formats', false),
    schema='ml',
    materialized='table',
    pii_guard=var('leaky_pii_guard', true),
) }}

select id as row_id, md5(lower(email)) as label_key
from {{ ref('stg_auth_db__users') }}
