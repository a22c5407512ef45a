{#- txtme's per-user activity for its analytics tab, from txtme's own events only (push-back). -#}
{{ config(materialized='table') }}

{{ app_user_activity('int_txtme_messages_anon', user_column='sender_hash', noun='messages_sent') }}
