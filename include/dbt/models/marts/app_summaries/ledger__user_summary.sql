{#- ledger's per-user activity for its analytics tab, from ledger's own events only (push-back). -#}
{{ config(materialized='table') }}

{{ app_user_activity('fct_ledger_transactions_anon', user_column='user_hash', noun='transactions') }}
