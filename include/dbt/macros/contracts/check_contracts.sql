{#-
  Mart contracts (runbook §5, §11.1), checked in a pre-hook of every model (da_assert_contract) so
  a model that lacks any of them fails before it is built and only its dependants are skipped:
  one mart without a contract never stops the rest of the project (issue 10). The start of every
  invocation logs all violations (da_check_contracts) for the on-call.
    every model in intermediate, marts, analytics and ml (da_guarded_layers): the
    no_pii_column_names and no_pii_values tests (the da_pii_guard post-hook enforces the same rules
    automatically on every build), and the PII guard left on unless the model is a deliberately
    leaky test fixture under models/leaky/ (da_pii_guard_allowed_off: a path, which no model
    config can change);
    every mart (marts, analytics, ml): a description stating its purpose (POPIA s13 / GDPR Art 5(1)(b)), meta.owner,
    meta.compliance_class in var('compliance_classes'), meta.primary_key with a not_null test,
    meta.natural_key with a unique (or unique_combination) test; a user-aggregating mart
    (meta.user_aggregating) declares meta.quasi_identifiers and has a k_anonymity test with
    k >= var('k_anonymity') over exactly those columns.
-#}
{% macro _da_tests_of(node_id) -%}
    {%- set tests = [] -%}
    {%- for n in graph.nodes.values() -%}
        {%- if n.resource_type == 'test' and n.test_metadata is defined and n.test_metadata
              and (n.attached_node == node_id or (n.attached_node is none and node_id in n.depends_on.nodes)) -%}
            {%- do tests.append(n) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(tests) }}
{%- endmacro %}

{% macro _da_has_test(tests, name, column=none) -%}
    {%- for t in tests -%}
        {%- if t.test_metadata.name == name and (column is none or t.column_name == column) -%}
            {{ return(true) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(false) }}
{%- endmacro %}

{#- The layers from the PII boundary on: guarded by da_pii_guard and the PII tests. -#}
{% macro da_guarded_layers() -%}
    {{ return(['intermediate', 'marts', 'analytics', 'ml']) }}
{%- endmacro %}

{#- The layers held to the full mart contract. -#}
{% macro da_mart_layers() -%}
    {{ return(['marts', 'analytics', 'ml']) }}
{%- endmacro %}

{#- May this node run without the PII guard? Only the deliberately leaky fixtures, by file path. -#}
{% macro da_pii_guard_allowed_off(node) -%}
    {{ return((node.original_file_path or '').replace('\\', '/').startswith('models/leaky/')) }}
{%- endmacro %}

{% macro da_contract_violations() -%}
    {%- set problems = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.config.enabled -%}
        {%- do problems.extend(da_node_contract_violations(node)) -%}
    {%- endfor -%}
    {{ return(problems) }}
{%- endmacro %}

{% macro da_node_contract_violations(node) -%}
    {%- set problems = [] -%}
    {%- set schema = da_layer(node.schema) -%}
    {%- if node.config.get('pii_guard', true) is false and not da_pii_guard_allowed_off(node) -%}
        {%- do problems.append(node.name ~ ': pii_guard may be switched off only for the test fixtures in models/leaky/') -%}
    {%- endif -%}
    {%- if true -%}
        {%- if schema in da_guarded_layers() -%}
            {%- set tests = _da_tests_of(node.unique_id) -%}
            {%- for required in ['no_pii_column_names', 'no_pii_values'] -%}
                {%- if not _da_has_test(tests, required) -%}
                    {%- do problems.append(node.name ~ ': missing PII test ' ~ required) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if schema in da_mart_layers() -%}
                {%- set meta = node.config.meta or {} -%}
                {%- set description = node.description or '' -%}
                {%- if 'purpose' not in (description | lower) or (description | length) < 40 -%}
                    {%- do problems.append(node.name ~ ': description must state the purpose (POPIA s13 / GDPR Art 5(1)(b))') -%}
                {%- endif -%}
                {%- if not meta.get('owner') -%}
                    {%- do problems.append(node.name ~ ': meta.owner missing') -%}
                {%- endif -%}
                {%- if meta.get('compliance_class') not in var('compliance_classes') -%}
                    {%- do problems.append(node.name ~ ': meta.compliance_class must be one of ' ~ var('compliance_classes') | join('/')) -%}
                {%- endif -%}
                {%- set pk = meta.get('primary_key') -%}
                {%- if not pk -%}
                    {%- do problems.append(node.name ~ ': meta.primary_key missing') -%}
                {%- else -%}
                    {%- for column in ([pk] if pk is string else pk) -%}
                        {%- if not _da_has_test(tests, 'not_null', column) -%}
                            {%- do problems.append(node.name ~ ': no not_null test on primary key column ' ~ column) -%}
                        {%- endif -%}
                    {%- endfor -%}
                {%- endif -%}
                {%- set nk = meta.get('natural_key') -%}
                {%- set nk = [nk] if nk is string else (nk or []) -%}
                {%- if not nk -%}
                    {%- do problems.append(node.name ~ ': meta.natural_key missing') -%}
                {%- else -%}
                    {%- set ns = namespace(ok=false) -%}
                    {%- for t in tests -%}
                        {%- if nk | length == 1 and t.test_metadata.name == 'unique' and t.column_name == nk[0] -%}
                            {%- set ns.ok = true -%}
                        {%- elif t.test_metadata.name == 'unique_combination'
                                 and (t.test_metadata.kwargs.get('columns') or []) | sort == nk | sort -%}
                            {%- set ns.ok = true -%}
                        {%- endif -%}
                    {%- endfor -%}
                    {%- if not ns.ok -%}
                        {%- do problems.append(node.name ~ ': no unique test on natural key ' ~ nk | join(', ')) -%}
                    {%- endif -%}
                {%- endif -%}
                {%- if meta.get('user_aggregating') -%}
                    {%- set qi = meta.get('quasi_identifiers') or [] -%}
                    {%- set ns = namespace(ok=false) -%}
                    {%- for t in tests if t.test_metadata.name == 'k_anonymity' -%}
                        {%- set kw = t.test_metadata.kwargs -%}
                        {%- if (kw.get('k', 5) | int) >= var('k_anonymity') and (kw.get('quasi_identifiers') or []) | sort == qi | sort and qi -%}
                            {%- set ns.ok = true -%}
                        {%- endif -%}
                    {%- endfor -%}
                    {%- if not ns.ok -%}
                        {%- do problems.append(node.name ~ ': user-aggregating mart needs meta.quasi_identifiers and a k_anonymity test (k >= '
                                               ~ var('k_anonymity') ~ ') over them') -%}
                    {%- endif -%}
                {%- endif -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(problems) }}
{%- endmacro %}

{#- on-run-start: log every violation; the models concerned fail in their own pre-hook. -#}
{% macro da_check_contracts() -%}
    {%- if execute -%}
        {%- set problems = da_contract_violations() -%}
        {%- if problems -%}
            {{ log('Model contract check failed (runbook §5); these models will not be built:\n  - ' ~ problems | join('\n  - '), info=true) }}
        {%- endif -%}
    {%- endif -%}
    {{ da_set_role() }}
    select 'contracts checked'
{%- endmacro %}

{#- pre-hook of every model: refuse to build this model if its contract is incomplete. -#}
{% macro da_assert_contract() -%}
    {%- set node = graph.nodes.get(model.unique_id) if execute else none -%}
    {%- set problems = da_node_contract_violations(node) if node else [] -%}
    {%- if problems -%}
        {%- set message = 'Model contract check failed (runbook §5): ' ~ (problems | join('; ')) -%}
    do $contract$ begin raise exception '%', {{ "'" ~ (message | replace("'", "''")) ~ "'" }} using errcode = 'P0001'; end $contract$
    {%- else -%}
    select 'contract ok'
    {%- endif -%}
{%- endmacro %}
