{#-
  Keyed hashing inside PostgreSQL (runbook 2.1). The key is never in dbt: compliance.hash_many()
  is SECURITY DEFINER, owned by a role nobody can become, and returns hashes only.

  hash_lookup(family, columns) -> a subquery (value text, hash text) with one row per distinct
  non-null value of the given "cte.column" references, computed with ONE key lookup per
  statement (the set-based form is ~3x cheaper than calling compliance.hash_user() per row).

    left join {{ hash_lookup('user', ['src.user_id', 'src.merchant_user_id']) }} as uh
           on uh.value = src.user_id::text
-#}
{% macro hash_lookup(family, columns) -%}
    {%- if family not in ['user', 'device', 'ip', 'email', 'phone', 'id_number'] -%}
        {{ exceptions.raise_compiler_error("hash_lookup: unknown hash family " ~ family) }}
    {%- endif -%}
    (select value, hash from compliance.hash_many('{{ family }}', array(
    {%- for ref_ in columns %}
        {%- set cte, column = ref_.split('.') %}
        {% if not loop.first %}union {% endif %}select distinct ({{ column }})::text from {{ cte }} where {{ column }} is not null
    {%- endfor %}
    )))
{%- endmacro %}

{#- Fails every dbt invocation early when the warehouse has no key copy (see compliance.py). -#}
{% macro da_assert_hash_keys() -%}
    {{ da_set_role() }}
    select compliance.assert_hash_keys_loaded()
{%- endmacro %}

{#-
  dbt-postgres sets the profile's role when it opens a connection, but a later ROLLBACK on the
  "master" connection (used by project hooks) undoes it. Hooks re-assert it first.
-#}
{% macro da_set_role() -%}
    {%- if target.get('role') -%}set role {{ adapter.quote(target.role) }};{%- endif -%}
{%- endmacro %}
