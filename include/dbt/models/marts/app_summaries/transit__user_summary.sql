{#- transit's per-user activity for its analytics tab, from transit's own events only (push-back). -#}
{{ config(materialized='table') }}

{{ app_user_activity('int_transit_taps_anon', user_column='user_hash', noun='taps') }}
