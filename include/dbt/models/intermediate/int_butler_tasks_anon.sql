{#- butler_db.tasks, anonymised: requester and provider hashed; instructions, address and location dropped. -#}
{{ config(
    materialized='incremental',
    unique_key='task_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=incremental_indexes('task_id'),
) }}

with src as (
    select t.*, p.user_id as provider_user_id, p.city as provider_city
    from {{ ref('stg_butler_db__tasks') }} as t
    left join {{ ref('stg_butler_db__providers') }} as p on p.id = t.provider_id
    where {{ incremental_since('t._extracted_at') }}
),

users as {{ hash_lookup('user', ['src.user_id', 'src.provider_user_id']) }}

select
    src.id as task_id,
    requester.hash as user_hash,
    provider.hash as provider_hash,
    src.provider_city as city,
    src.category,
    src.amount,
    src.currency,
    src.status,
    src.scheduled_for,
    src.completed_at,
    src.created_at,
    src.updated_at,
    src._extracted_at
from src
left join users as requester on requester.value = src.user_id::text
left join users as provider on provider.value = src.provider_user_id::text
