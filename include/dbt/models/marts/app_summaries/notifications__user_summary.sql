{#- notifications's per-user activity for its analytics tab, from notifications's own events only (push-back). -#}
{{ config(materialized='table') }}

{{ app_user_activity('int_notifications_deliveries_anon', user_column='user_hash', noun='notifications') }}
