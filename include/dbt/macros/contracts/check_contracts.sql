{#-
  Mart contracts (runbook §5, §11.1), checked at the start of every dbt invocation so a model
  that lacks any of them fails the build before anything runs:
    every model in intermediate and marts: the no_pii_column_names and no_pii_values tests
    (the da_pii_guard post-hook enforces the same rules automatically on every build);
    every mart: a description stating its purpose (POPIA s13 / GDPR Art 5(1)(b)), meta.owner,
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

{% macro da_contract_violations() -%}
    {%- set problems = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.config.enabled -%}
        {%- set schema = da_layer(node.schema) -%}
        {%- if schema in ['intermediate', 'marts'] -%}
            {%- set tests = _da_tests_of(node.unique_id) -%}
            {%- for required in ['no_pii_column_names', 'no_pii_values'] -%}
                {%- if not _da_has_test(tests, required) -%}
                    {%- do problems.append(node.name ~ ': missing PII test ' ~ required) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if schema == 'marts' -%}
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
    {%- endfor -%}
    {{ return(problems) }}
{%- endmacro %}

{% macro da_check_contracts() -%}
    {%- if execute -%}
        {%- set problems = da_contract_violations() -%}
        {%- if problems -%}
            {{ exceptions.raise_compiler_error('Model contract check failed (runbook §5):\n  - ' ~ problems | join('\n  - ')) }}
        {%- endif -%}
    {%- endif -%}
    {{ da_set_role() }}
    select 'contracts ok'
{%- endmacro %}
