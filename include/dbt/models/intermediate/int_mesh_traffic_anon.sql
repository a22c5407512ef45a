{#- mesh_db.traffic_samples with their node, anonymised: owner hashed; node device id, IP and location dropped. -#}
{{ config(
    materialized='incremental',
    unique_key='sample_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=incremental_indexes('sample_id'),
) }}

with src as (
    select s.*, n.node_class, n.firmware_version
    from {{ ref('stg_mesh_db__traffic_samples') }} as s
    left join {{ ref('stg_mesh_db__nodes') }} as n on n.id = s.node_id
    where {{ incremental_since('s._extracted_at') }}
)

select
    src.id as sample_id,
    src.node_id,
    uh.hash as owner_hash,
    src.node_class,
    src.firmware_version,
    src.bytes_up,
    src.bytes_down,
    src.peer_count,
    src.sampled_at,
    src.created_at,
    src.updated_at,
    src._extracted_at
from src
left join {{ hash_lookup('user', ['src.owner_user_id']) }} as uh on uh.value = src.owner_user_id::text
