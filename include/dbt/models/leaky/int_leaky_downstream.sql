{#- TEST FIXTURE: downstream of int_leaky_users; must be skipped when the leak is caught. -#}
{{ config(enabled=var('enable_leaky_model', false), materialized='table') }}

select count(*) as n from {{ ref('int_leaky_users') }}
