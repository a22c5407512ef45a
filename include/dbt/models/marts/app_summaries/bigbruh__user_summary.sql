{#- bigbruh's per-user activity for its analytics tab, from bigbruh's own events only (push-back). -#}
{{ config(materialized='table') }}

{{ app_user_activity('int_bigbruh_page_views_anon', user_column='user_hash', noun='page_views') }}
