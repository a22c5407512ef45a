{#- tagme's per-user activity for its analytics tab, from tagme's own events only (push-back). -#}
{{ config(materialized='table') }}

{{ app_user_activity('int_tagme_tags_anon', user_column='user_hash', noun='check_ins') }}
