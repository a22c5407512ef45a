{#- whatwewant_db.wishes with their votes, anonymised: user hashed; free-text title and details dropped. -#}
{{ config(
    materialized='incremental',
    unique_key='wish_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=incremental_indexes('wish_id'),
) }}

with changed as (
    select id as wish_id from {{ ref('stg_whatwewant_db__wishes') }} where {{ incremental_since() }}
    union
    select wish_id from {{ ref('stg_whatwewant_db__votes') }} where {{ incremental_since() }}
),

src as (
    select w.* from {{ ref('stg_whatwewant_db__wishes') }} as w join changed on changed.wish_id = w.id
),

votes as (
    select v.wish_id, count(*) as vote_count, coalesce(sum(v.value), 0) as vote_score, max(v._extracted_at) as _extracted_at
    from {{ ref('stg_whatwewant_db__votes') }} as v
    join changed on changed.wish_id = v.wish_id
    group by v.wish_id
)

select
    src.id as wish_id,
    uh.hash as user_hash,
    src.tags,
    src.city,
    src.amount,
    src.currency,
    src.status,
    coalesce(votes.vote_count, 0) as vote_count,
    coalesce(votes.vote_score, 0) as vote_score,
    src.created_at,
    src.updated_at,
    greatest(src._extracted_at, votes._extracted_at) as _extracted_at
from src
left join votes on votes.wish_id = src.id
left join {{ hash_lookup('user', ['src.user_id']) }} as uh on uh.value = src.user_id::text
