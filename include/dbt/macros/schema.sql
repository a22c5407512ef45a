{#-
  Layers are schemas of their own (staging, intermediate, marts): no target-schema prefix.
  A salt rotation builds everything derived from hashed identifiers into shadow schemas
  (var shadow_schema_suffix, e.g. '__rotation': marts -> marts__rotation) and swaps them in one
  transaction (plugins/dataacuity/rotation.py). Staging (views over raw, no hashes) is not shadowed.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set schema = (custom_schema_name or target.schema) | trim -%}
    {%- set suffix = var('shadow_schema_suffix', '') -%}
    {%- if suffix and schema in var('shadowed_schemas') -%}
        {{ schema ~ suffix }}
    {%- else -%}
        {{ schema }}
    {%- endif -%}
{%- endmacro %}

{#- The layer a schema belongs to: a rotation's shadow schema (marts__rotation) is still marts. -#}
{% macro da_layer(schema) -%}
    {%- set suffix = var('shadow_schema_suffix', '') -%}
    {%- if suffix and schema.endswith(suffix) -%}
        {{ return(schema[: schema | length - suffix | length]) }}
    {%- endif -%}
    {{ return(schema) }}
{%- endmacro %}
