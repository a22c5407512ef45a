{#- trustseal_db.reviews with their certificate, anonymised: reviewer and certificate owner hashed; review text dropped. -#}
{{ config(
    materialized='incremental',
    unique_key='review_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=incremental_indexes('review_id'),
) }}

with src as (
    select r.*, c.owner_user_id, c.seal_level
    from {{ ref('stg_trustseal_db__reviews') }} as r
    left join {{ ref('stg_trustseal_db__certificates') }} as c on c.id = r.certificate_id
    where {{ incremental_since('r._extracted_at') }}
),

users as {{ hash_lookup('user', ['src.reviewer_user_id', 'src.owner_user_id']) }}

select
    src.id as review_id,
    reviewer.hash as reviewer_hash,
    src.certificate_id,
    owner.hash as certificate_owner_hash,
    src.seal_level,
    src.rating,
    length(src.body) as review_length,
    src.created_at,
    src.updated_at,
    src._extracted_at
from src
left join users as reviewer on reviewer.value = src.reviewer_user_id::text
left join users as owner on owner.value = src.owner_user_id::text
