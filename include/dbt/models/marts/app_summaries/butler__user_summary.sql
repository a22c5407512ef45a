{#- butler's per-user activity for its analytics tab, from butler's own events only (push-back). -#}
{{ config(materialized='table') }}

{{ app_user_activity('int_butler_tasks_anon', user_column='user_hash', noun='tasks') }}
