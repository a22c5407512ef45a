{#- auth_db.logins, anonymised: user and device hashed, IP and user agent dropped. -#}
{{ config(
    materialized='incremental',
    unique_key='login_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=incremental_indexes('login_id'),
) }}

with src as (
    select * from {{ ref('stg_auth_db__logins') }}
    where {{ incremental_since() }}
)

select
    src.id as login_id,
    uh.hash as user_hash,
    src.succeeded,
    src.method,
    dh.hash as device_hash,
    src.created_at,
    src.updated_at,
    src._extracted_at
from src
left join {{ hash_lookup('user', ['src.user_id']) }} as uh on uh.value = src.user_id::text
left join {{ hash_lookup('device', ['src.device_id']) }} as dh on dh.value = src.device_id
