{#- trustseal's per-user activity for its analytics tab, from trustseal's own events only (push-back). -#}
{{ config(materialized='table') }}

{{ app_user_activity('int_trustseal_reviews_anon', user_column='reviewer_hash', noun='reviews') }}
