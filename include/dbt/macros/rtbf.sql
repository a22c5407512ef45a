{#-
  Right to be forgotten (plugins/dataacuity/rtbf.py) deletes a user's rows by their pseudonym in
  every `*_hash` column of intermediate and marts. Post-hook of every model: each such column gets
  an index, so those deletes go by index, not by a scan of the table (built once per table build;
  `if not exists` makes it a no-op on incremental runs).
-#}
{% macro da_rtbf_hash_indexes() -%}
    {%- if execute and this.schema in ['intermediate', 'marts'] and model.config.materialized in ['table', 'incremental'] -%}
        {%- set names = [] -%}
        {%- for column in adapter.get_columns_in_relation(this) if column.name.endswith('_hash') -%}
            {%- do names.append(column.name) -%}
        {%- endfor -%}
        {%- if names -%}
            {%- for name in names %}
    create index if not exists {{ adapter.quote('rtbf_' ~ local_md5(this.identifier ~ '.' ~ name)[:24]) }} on {{ this }} ({{ adapter.quote(name) }});
            {%- endfor -%}
        {%- else -%}
    select 1
        {%- endif -%}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}
