{#-
  The PII guard: runs as a post-hook of EVERY model (dbt_project.yml) and acts on those built in
  the intermediate, marts, analytics and ml schemas (da_guarded_layers), with no opt-in per model. It checks the freshly built
  relation inside the model's own transaction (for incremental models: the rows of this run) and
  raises, so a leaking relation is rolled back, the model fails and everything downstream is
  skipped. Only the test fixtures under models/leaky/ may switch it off (config pii_guard): the
  file path decides, so `pii_guard: false` in any other model's config is ignored here and fails
  that model's contract (da_node_contract_violations).
-#}
{% macro da_pii_guard_prepare() -%}
    {%- set incremental = execute and da_layer(this.schema) in da_guarded_layers() and is_incremental() -%}
    {%- if incremental and '_extracted_at' in (adapter.get_columns_in_relation(this) | map(attribute='name') | list) -%}
    select set_config('da.pii_guard_since', coalesce((select max(_extracted_at)::text from {{ this }}), '-infinity'), false)
    {%- else -%}
    select set_config('da.pii_guard_since', '-infinity', false)
    {%- endif -%}
{%- endmacro %}

{% macro da_pii_guard() -%}
    {%- set guard_off = execute and config.get('pii_guard', true) is false and da_pii_guard_allowed_off(model) -%}
    {%- if execute and da_layer(this.schema) in da_guarded_layers() and not guard_off -%}
        {%- set columns = adapter.get_columns_in_relation(this) -%}
        {%- set names = columns | map(attribute='name') | list -%}
        {%- set problems = [] -%}
        {%- for f in pii_column_name_violations(names, graph.nodes.get(model.unique_id)) -%}
            {%- do problems.append('column ' ~ f.column ~ ' (' ~ f.reason ~ ')') -%}
        {%- endfor -%}
        {%- set scope = 'true' -%}
        {%- if '_extracted_at' in names -%}
            {#- the window start as a literal, so the planner can estimate (and use the index) -#}
            {%- set since = run_query("select (current_setting('da.pii_guard_since')::timestamptz - interval '"
                                      ~ var('incremental_lookback') ~ "')::text").columns[0].values()[0] -%}
            {%- set scope = "_extracted_at > '" ~ since ~ "'::timestamptz" -%}
        {%- endif -%}
        {%- set found = run_query(pii_value_check_sql(this, pii_text_columns(columns), scope, pii_number_columns(columns))) -%}
        {%- for row in found.rows -%}
            {%- do problems.append(row[2] ~ ' value(s) of ' ~ row[0] ~ ' look like ' ~ row[1]) -%}
        {%- endfor -%}
        {%- if problems -%}
            {%- set message = 'PII guard: ' ~ this ~ ' would expose PII: ' ~ (problems | join('; ')) -%}
            {{ log(message, info=true) }}
    do $pii_guard$ begin raise exception '%', {{ "'" ~ (message | replace("'", "''")) ~ "'" }} using errcode = 'P0001'; end $pii_guard$
        {%- else -%}
    select 'pii guard passed'
        {%- endif -%}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}
