{#- sdpkt's per-user activity for its analytics tab, from sdpkt's own events only (push-back). -#}
{{ config(materialized='table') }}

{{ app_user_activity('fct_sdpkt_payments', user_column='user_hash', noun='payments') }}
