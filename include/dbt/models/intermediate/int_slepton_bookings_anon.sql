{#- slepton_db.bookings with their listing, anonymised: guest and host hashed; listing address and location dropped. -#}
{{ config(
    materialized='incremental',
    unique_key='booking_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=incremental_indexes('booking_id'),
) }}

with src as (
    select b.*, l.host_user_id, l.city as listing_city, l.province as listing_province
    from {{ ref('stg_slepton_db__bookings') }} as b
    left join {{ ref('stg_slepton_db__listings') }} as l on l.id = b.listing_id
    where {{ incremental_since('b._extracted_at') }}
),

users as {{ hash_lookup('user', ['src.guest_user_id', 'src.host_user_id']) }}

select
    src.id as booking_id,
    src.listing_id,
    guest.hash as guest_hash,
    host.hash as host_hash,
    src.listing_city,
    src.listing_province,
    src.check_in,
    src.check_out,
    src.check_out - src.check_in as nights,
    src.guests,
    src.amount,
    src.currency,
    src.status,
    src.created_at,
    src.updated_at,
    src._extracted_at
from src
left join users as guest on guest.value = src.guest_user_id::text
left join users as host on host.value = src.host_user_id::text
