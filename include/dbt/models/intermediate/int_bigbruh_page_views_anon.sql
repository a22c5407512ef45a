{#- bigbruh_db.page_views, anonymised: user and device hashed; IP and user agent dropped. -#}
{{ config(
    materialized='incremental',
    unique_key='page_view_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=incremental_indexes('page_view_id'),
) }}

with src as (
    select * from {{ ref('stg_bigbruh_db__page_views') }}
    where {{ incremental_since() }}
)

select
    src.id as page_view_id,
    uh.hash as user_hash,
    src.path,
    src.referrer,
    dh.hash as device_hash,
    src.duration_ms,
    src.created_at,
    src.updated_at,
    src._extracted_at
from src
left join {{ hash_lookup('user', ['src.user_id']) }} as uh on uh.value = src.user_id::text
left join {{ hash_lookup('device', ['src.device_id']) }} as dh on dh.value = src.device_id
