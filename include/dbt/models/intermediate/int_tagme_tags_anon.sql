{#- tagme_db.tags with their venue, anonymised: user and device hashed; note and exact location dropped. -#}
{{ config(
    materialized='incremental',
    unique_key='tag_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=incremental_indexes('tag_id'),
) }}

with src as (
    select * from {{ ref('stg_tagme_db__tags') }}
    where {{ incremental_since() }}
)

select
    src.id as tag_id,
    uh.hash as user_hash,
    src.venue_id,
    v.category as venue_category,
    v.city as venue_city,
    v.province as venue_province,
    src.visibility,
    dh.hash as device_hash,
    src.created_at,
    src.updated_at,
    src._extracted_at
from src
left join {{ ref('stg_tagme_db__venues') }} as v on v.id = src.venue_id
left join {{ hash_lookup('user', ['src.user_id']) }} as uh on uh.value = src.user_id::text
left join {{ hash_lookup('device', ['src.device_id']) }} as dh on dh.value = src.device_id
