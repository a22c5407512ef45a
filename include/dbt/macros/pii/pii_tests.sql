{#- Generic test (a): no column of the model has a name that denotes PII. -#}
{% test no_pii_column_names(model) %}
    {%- set names = adapter.get_columns_in_relation(model) | map(attribute='name') | list if execute else [] -%}
    {%- set found = pii_column_name_violations(names, da_node_of(model) if execute else none) -%}
    {%- if found %}
    select * from (values
        {%- for f in found %}
        ('{{ f.column }}'::text, '{{ f.reason | replace("'", "''") }}'::text){{ "," if not loop.last }}
        {%- endfor %}
    ) as v(column_name, reason)
    {%- else %}
    select null::text as column_name, null::text as reason where false
    {%- endif %}
{% endtest %}

{#- Generic test (b): no value of the model looks like PII. Fails with the number of cells found. -#}
{% test no_pii_values(model) %}
    {{ config(fail_calc='coalesce(sum(n_rows), 0)') }}
    {%- set columns = adapter.get_columns_in_relation(model) if execute else [] -%}
    {%- set names = columns | map(attribute='name') | list -%}
    {{ pii_value_check_sql(model, pii_text_columns(columns), pii_test_scope(names), pii_number_columns(columns)) }}
{% endtest %}
