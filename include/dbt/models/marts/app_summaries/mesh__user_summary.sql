{#- mesh's per-user activity for its analytics tab, from mesh's own events only (push-back). -#}
{{ config(materialized='table') }}

{{ app_user_activity('int_mesh_traffic_anon', user_column='owner_hash', noun='traffic_samples') }}
