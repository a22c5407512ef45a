{#- whatwewant's per-user activity for its analytics tab, from whatwewant's own events only (push-back). -#}
{{ config(materialized='table') }}

{{ app_user_activity('int_whatwewant_wishes_anon', user_column='user_hash', noun='wishes') }}
