{#- takemehome_db.trips, anonymised: rider and driver hashed; addresses and exact pickup/drop-off points dropped. -#}
{{ config(
    materialized='incremental',
    unique_key='trip_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=incremental_indexes('trip_id'),
) }}

with src as (
    select t.*, d.user_id as driver_user_id, d.city as driver_city
    from {{ ref('stg_takemehome_db__trips') }} as t
    left join {{ ref('stg_takemehome_db__drivers') }} as d on d.id = t.driver_id
    where {{ incremental_since('t._extracted_at') }}
),

users as {{ hash_lookup('user', ['src.rider_user_id', 'src.driver_user_id']) }}

select
    src.id as trip_id,
    rider.hash as rider_hash,
    driver.hash as driver_hash,
    src.driver_city as city,
    src.distance_km,
    src.amount,
    src.currency,
    src.status,
    src.requested_at,
    src.completed_at,
    src.created_at,
    src.updated_at,
    src._extracted_at
from src
left join users as rider on rider.value = src.rider_user_id::text
left join users as driver on driver.value = src.driver_user_id::text
