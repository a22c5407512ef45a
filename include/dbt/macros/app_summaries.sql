{#-
  Per-user activity of ONE app, from that app's own anonymised events (push-back, runbook 3.7):
  one row per user_hash with events this week (Monday 00:00 SAST), in the last 30 days, in total,
  and the last activity. The push-back re-keys user_hash to the app's own user id at .104.
  Purpose limitation: call it only with models of the app the summary is for.
-#}
{% macro app_user_activity(model, user_column='user_hash', time_column='created_at', noun='events') -%}
select
    e.{{ user_column }} as user_hash,
    count(*) filter (where e.{{ time_column }} >= {{ week_start() }})::bigint as {{ noun }}_this_week,
    count(*) filter (where e.{{ time_column }} >= now() - interval '30 days')::bigint as {{ noun }}_30d,
    count(*)::bigint as {{ noun }}_total,
    max(e.{{ time_column }}) as last_activity_at
from {{ ref(model) }} as e
where e.{{ user_column }} is not null
group by e.{{ user_column }}
{%- endmacro %}

{#- Start of the current week as the apps show it: Monday 00:00 in South Africa. -#}
{% macro week_start() -%}
    (date_trunc('week', now() at time zone 'Africa/Johannesburg') at time zone 'Africa/Johannesburg')
{%- endmacro %}
