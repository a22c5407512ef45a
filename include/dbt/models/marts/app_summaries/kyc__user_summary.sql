{#- kyc's per-user activity for its analytics tab, from kyc's own events only (push-back). -#}
{{ config(materialized='table') }}

{{ app_user_activity('int_kyc_verifications_anon', user_column='user_hash', noun='verifications') }}
