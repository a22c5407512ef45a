{#- auth's per-user activity for its analytics tab, from auth's own events only (push-back). -#}
{{ config(materialized='table') }}

{{ app_user_activity('int_auth_logins_anon', user_column='user_hash', noun='sign_ins') }}
