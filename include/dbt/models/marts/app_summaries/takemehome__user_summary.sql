{#- takemehome's per-user activity for its analytics tab, from takemehome's own events only (push-back). -#}
{{ config(materialized='table') }}

{{ app_user_activity('int_takemehome_trips_anon', user_column='rider_hash', noun='trips') }}
