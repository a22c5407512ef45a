{#-
  Keyed hashing inside PostgreSQL (runbook 2.1). The key is never in dbt: compliance.hash_many()
  is SECURITY DEFINER, owned by a role nobody can become, and returns hashes only.

  hash_lookup(family, columns) -> a subquery (value text, hash text) with one row per distinct
  non-null value of the given "cte.column" references, computed with ONE key lookup per
  statement (the set-based form is ~3x cheaper than calling compliance.hash_user() per row).

    left join {{ hash_lookup('user', ['src.user_id', 'src.merchant_user_id']) }} as uh
           on uh.value = src.user_id::text

  Key generations (docs/compliance-hashing.md): normal runs hash with the ACTIVE generation. A
  salt rotation builds shadow relations with var hash_key_state = 'pending' (the new generation,
  loaded next to the active one); the durable family 'erasure' is never rotated.

  Right to be forgotten (DESIGN §3): a value whose tombstone exists (a forgotten user's id, or
  their email / phone / SA ID / device / IP) gets NO hash, so a transform run, a replay or a full
  refresh never brings a forgotten user's pseudonym back through another user's row (a review of
  their certificate, a booking they hosted, a tap of their card). A model keeps such a row with
  the reference blanked (left join) or drops it where the reference is required (inner join): the
  same outcome the cascade (dataacuity/rtbf.py) gives the rows it finds in place.
-#}
{% macro hash_lookup(family, columns) -%}
    {%- if family not in ['user', 'device', 'ip', 'email', 'phone', 'id_number', 'erasure'] -%}
        {{ exceptions.raise_compiler_error("hash_lookup: unknown hash family " ~ family) }}
    {%- endif -%}
    {%- set key_state = var('hash_key_state', 'active') -%}
    {%- if key_state not in ['active', 'pending'] -%}
        {{ exceptions.raise_compiler_error("var hash_key_state must be active or pending, got " ~ key_state) }}
    {%- endif -%}
    (with candidates as (
    {%- for ref_ in columns %}
        {%- set cte, column = ref_.split('.') %}
        {% if not loop.first %}union {% endif %}select distinct ({{ column }})::text as value from {{ cte }} where {{ column }} is not null
    {%- endfor %}
    )
    select value, hash from compliance.hash_many('{{ family }}', array(
        select value from candidates
        {%- if family != 'erasure' %}
        except select compliance.rtbf_forgotten_among('{{ family }}', array(select value from candidates))
        {%- endif %}
    ){% if key_state != 'active' %}, '{{ key_state }}'{% endif %}))
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
