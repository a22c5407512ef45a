{#-
  on-run-end: store this invocation's model and test results in dbt_artifacts (runbook §10.2).
  run_id = DA_DBT_RUN_ID (set by the Airflow DAGs to '<dag run start>_<dag run id>', shared by
  every task of a DAG run) or '<invocation start>_<invocation id>'. Only statuses, counts and
  redacted messages are stored: never compiled SQL or row values.
-#}
{% macro _da_literal(value) -%}
    {%- if value is none -%}null{%- else -%}'{{ (value | string) | replace("'", "''") }}'{%- endif -%}
{%- endmacro %}

{#- The columns a failing PII test found (issue 10: a failing PII test names model AND column in
    dbt_artifacts). Re-runs the test's own query, which returns column names and counts only. -#}
{% macro da_failing_pii_columns(node) -%}
    {%- if node.compiled_code is defined and node.compiled_code -%}
        {%- do pii_needles_relation() -%}  {#- sets JIT off; the fallback temp sample where no shared one exists -#}
        {%- set found = run_query("select string_agg(distinct column_name::text, ', ' order by column_name::text) from ("
                                  ~ node.compiled_code ~ ") as failing") -%}
        {{ return(found.columns[0].values()[0] if found and found.rows else node.column_name) }}
    {%- endif -%}
    {{ return(node.column_name) }}
{%- endmacro %}

{% macro da_store_results(results) -%}
    {%- if execute and results -%}
        {%- set run_id = env_var('DA_DBT_RUN_ID', '') or (run_started_at.strftime('%Y%m%dT%H%M%S') ~ '_' ~ invocation_id) -%}
        {%- set models = [] -%}
        {%- set tests = [] -%}
        {%- set counts = namespace(errors=0, failures=0) -%}
        {%- for r in results -%}
            {%- set node = r.node -%}
            {%- set status = r.status | string | lower -%}
            {%- set status = status.split('.')[-1] -%}
            {%- if status == 'error' %}{% set counts.errors = counts.errors + 1 %}{% endif -%}
            {%- if status == 'fail' %}{% set counts.failures = counts.failures + 1 %}{% endif -%}
            {%- set message = r.message if r.message is not none else none -%}
            {%- if node.resource_type == 'model' -%}
                {%- set rows_affected = (r.adapter_response or {}).get('rows_affected') -%}
                {%- do models.append('(' ~ [_da_literal(run_id), _da_literal(invocation_id), _da_literal(node.unique_id),
                        _da_literal(node.name), _da_literal(node.schema), _da_literal(node.config.materialized),
                        _da_literal(status), (rows_affected if rows_affected is not none else 'null'),
                        (r.execution_time | round(3)), 'dbt_artifacts.redact_pii(' ~ _da_literal(message) ~ ')'] | join(', ') ~ ')') -%}
            {%- elif node.resource_type == 'test' -%}
                {%- set parent = node.attached_node or (node.depends_on.nodes | select('match', '^model\.') | first) -%}
                {%- set model_name = graph.nodes[parent].name if parent and parent in graph.nodes else none -%}
                {%- set test_type = node.test_metadata.name if node.test_metadata is defined and node.test_metadata else 'singular' -%}
                {%- set column_name = da_failing_pii_columns(node) if status == 'fail' and test_type in ['no_pii_values', 'no_pii_column_names'] else node.column_name -%}
                {%- do tests.append('(' ~ [_da_literal(run_id), _da_literal(invocation_id), _da_literal(node.unique_id),
                        _da_literal(node.name), _da_literal(test_type), _da_literal(model_name), _da_literal(column_name),
                        _da_literal(status), (r.failures or 0), _da_literal(node.config.severity),
                        (r.execution_time | round(3)), 'dbt_artifacts.redact_pii(' ~ _da_literal(message) ~ ')'] | join(', ') ~ ')') -%}
            {%- endif -%}
        {%- endfor %}
    {{ da_set_role() }}
    insert into dbt_artifacts.invocations (invocation_id, run_id, command, target_name, dbt_version, nodes, errors, failures, started_at)
    values ({{ _da_literal(invocation_id) }}, {{ _da_literal(run_id) }}, {{ _da_literal(flags.WHICH) }}, {{ _da_literal(target.name) }},
            {{ _da_literal(dbt_version) }}, {{ results | length }}, {{ counts.errors }}, {{ counts.failures }},
            {{ _da_literal(run_started_at.isoformat()) }}::timestamptz)
    on conflict (invocation_id) do nothing;
        {%- if models %}
    insert into dbt_artifacts.model_results (run_id, invocation_id, unique_id, model_name, schema_name, materialization,
                                             status, rows_affected, execution_time_s, message)
    values {{ models | join(',\n           ') }};
        {%- endif -%}
        {%- if tests %}
    insert into dbt_artifacts.test_results (run_id, invocation_id, unique_id, test_name, test_type, model_name, column_name,
                                            status, num_failing_rows, severity, execution_time_s, message)
    values {{ tests | join(',\n           ') }};
        {%- endif -%}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}
