{#-
  TEST FIXTURE (--vars '{enable_source_rule_fixtures: true}'): how many values the PII guard's
  registry sample holds, and how many needles it keeps, per registry PII column (counts and
  column names only, no values). tests/test_dbt_build.py checks that every column the registry
  declares is sampled, so a green build means the value checks really looked.
-#}
{{ config(enabled=var('enable_source_rule_fixtures', false), schema='intermediate', materialized='table') }}

with sampled as (
    select origin, count(v) as sampled_values
    from ({{ pii_sample_sql() }}) as s
    group by origin
),

needles as (
    select origin, count(*) as needles
    from ({{ pii_needles_sql() }}) as n
    group by origin
)

select s.origin, s.sampled_values, coalesce(n.needles, 0) as needles
from sampled as s
left join needles as n on n.origin = s.origin
