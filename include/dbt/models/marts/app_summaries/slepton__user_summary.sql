{#- slepton's per-user activity for its analytics tab, from slepton's own events only (push-back). -#}
{{ config(materialized='table') }}

{{ app_user_activity('int_slepton_bookings_anon', user_column='guest_hash', noun='bookings') }}
