{#-
  Registry-driven value checks (issue 10 §2): values SAMPLED from every column the registry
  declares PII (config/sources.yml `pii:` -> the generated sources' meta.pii_class), in every
  source, whatever a model later calls them. pii_value_check_sql() looks for them in every text
  (and, for phone and ID numbers, numeric) column of a guarded model.

  Sample: up to var('pii_sample_rows') rows of each raw table holding PII columns, read with
  TABLESAMPLE SYSTEM ... REPEATABLE (block sampling: cost grows with the sample, not the table;
  the same table state gives the same sample). Sources whose raw table (or column) does not exist
  yet, or that the running role may not read, are left out.

  Both sides are normalised to a comparable form ("needles"), then matched with hash joins:
    digits  phone: its last 9 digits (so +27 82 555 0101, 0027825550101, 082.555.0101,
            (082) 555-0101 and +27 (0)82 555 0101 are one needle); id_number: all its digits.
            In a cell: spaces . - ( ) / + are dropped, then every 9+ digit run is cut into windows
            of each needle length (numbers inside longer text or numbers are found; numeric
            columns are checked too).
    email   lower-cased; in a cell: every e-mail-shaped substring, lower-cased.
    hash    md5 and sha256 (hex) of the email/phone/id as stored and in its usual forms (lower-
            case e-mail; phone digits, 0..., 27..., +27...; ID digits); in a cell: every 32- or
            64-hex run, lower-cased. (Keyed HMACs of compliance.hash_* do not match: keys.)
    text    every other class (name, address, free_text, device_id, ip, geo, dob): lower-case,
            runs of non-alphanumerics -> one space. A multi-word value must not appear in a cell
            at word boundaries; a one-word value must not be a whole cell. Left out: values shorter
            than 4 characters, numbers of fewer than 8 digits (a postal code is any small integer),
            and free text repeated 3+ times in its column's sample (canned phrases and categories
            such as "Cash withdrawal fee" or a browser's user agent, not personal data).
-#}

{#- [{'relation', 'column', 'pii_class', 'origin'}] for every registry PII column the running role can
    read in an existing raw table (one catalog query). -#}
{% macro pii_registry_sample_columns() -%}
    {%- set wanted = [] -%}
    {%- if execute -%}
        {%- for source in graph.sources.values() -%}
            {%- for column in source.columns.values() if column.meta.get('pii_class') -%}
                {%- do wanted.append({
                    'relation': adapter.quote(source.schema) ~ '.' ~ adapter.quote(source.identifier),
                    'column': column.name,
                    'pii_class': column.meta.get('pii_class'),
                    'origin': (source.meta.get('source_db') or source.source_name) ~ '.'
                              ~ (source.meta.get('source_table') or source.name) ~ '.' ~ column.name,
                }) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if not wanted -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set check -%}
        select v.i from (values
        {%- for w in wanted %}
            ({{ loop.index0 }}, {{ _da_literal(w.relation) }}, {{ _da_literal(w.column) }}){{ "," if not loop.last }}
        {%- endfor %}
        ) as v(i, rel, col)
        where case when to_regclass(v.rel) is null then false
                   when not exists (select 1 from pg_attribute a where a.attrelid = to_regclass(v.rel)
                                    and a.attname = v.col and a.attnum > 0 and not a.attisdropped) then false
                   else has_column_privilege(to_regclass(v.rel), v.col, 'SELECT') end
        order by v.i
    {%- endset -%}
    {%- set present = run_query(check).columns[0].values() | list -%}
    {%- set found = [] -%}
    {%- for i in present -%}
        {%- do found.append(wanted[i | int]) -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}

{#- The registry sample's needles as a session temp table (match, needle, key, multi_word, label, origin),
    built once per dbt connection (dbt opens one per node: once per guarded model build or PII
    test) and joined by every check of that node. Temp: private to the session and gone with it,
    so no lasting copy of PII values exists. -#}
{% macro pii_needles_relation() -%}
    {%- if not execute -%}
        {{ return('pg_temp.da_pii_needles') }}
    {%- endif -%}
    {%- set name = 'da_pii_needles_' ~ (invocation_id | replace('-', '')) -%}
    {#- JIT off for this dbt session: these plans (lateral regexp and generate_series, over-estimated)
        cross jit_above_cost and spent ~10x the query's own time compiling (measured: 9.8 s vs 0.8 s). -#}
    {%- if run_query("select set_config('jit', 'off', false) is null or to_regclass('pg_temp." ~ name ~ "') is null").columns[0].values()[0] -%}
        {#- analyze: without statistics the planner nested-loops the joins (measured 40 s, not 0.3 s) -#}
        {%- do run_query('create temporary table ' ~ name ~ ' as ' ~ pii_needles_sql() ~ '; analyze pg_temp.' ~ name) -%}
    {%- endif -%}
    {{ return('pg_temp.' ~ name) }}
{%- endmacro %}

{#- The sample: (pii_class, origin, v) for up to var('pii_sample_rows') rows of each raw table. -#}
{% macro pii_sample_sql() -%}
    {%- set columns = pii_registry_sample_columns() -%}
    {%- set rows = var('pii_sample_rows', 300) | int -%}
    {%- set by_relation = {} -%}
    {%- for c in columns -%}
        {%- do by_relation.setdefault(c.relation, []).append(c) -%}
    {%- endfor -%}
        select null::text as pii_class, null::text as origin, null::text as v where false
        {%- for relation, cols in by_relation.items() %}
        union all
        select s.pii_class, s.origin, s.v
        from (
            select * from {{ relation }} tablesample system ((
                select least(100, 200.0 * {{ rows }} / greatest(reltuples, 1)) from pg_class where oid = to_regclass({{ _da_literal(relation) }})
            )) repeatable (0)
            limit {{ rows }}
        ) as r
        cross join lateral (values
            {%- for c in cols %}
            ({{ _da_literal(c.pii_class) }}, {{ _da_literal(c.origin) }}, r.{{ adapter.quote(c.column) }}::text){{ "," if not loop.last }}
            {%- endfor %}
        ) as s(pii_class, origin, v)
        {%- endfor %}
{%- endmacro %}

{#- The needles query: one row per normalised sample value (see the header). -#}
{% macro pii_needles_sql() -%}
    with pii_sample as (
        {{ pii_sample_sql() }}
    ),
    pii_sample_forms as (
        select pii_class, origin, v,
               case when pii_class in ('phone', 'id_number') then regexp_replace(v, '[^0-9]', '', 'g') end as digits,
               case when pii_class not in ('email', 'phone', 'id_number')
                    then btrim(regexp_replace(lower(v), '[^[:alnum:]]+', ' ', 'g')) end as words
        from (
            -- inet renders a host as 1.2.3.4/32: the address is what leaks
            select pii_class, origin,
                   case when pii_class = 'ip' then regexp_replace(btrim(v), '/(32|128)$', '') else btrim(v) end as v
            from pii_sample
            where v is not null
        ) as s
    ),
    pii_hash_inputs as (
        select pii_class, origin, f.form
        from pii_sample_forms
        cross join lateral (values
            (v), (lower(v)),
            (case when pii_class in ('phone', 'id_number') and length(digits) >= 9 then digits end),
            (case when pii_class = 'phone' and length(digits) >= 9 then '0' || right(digits, 9) end),
            (case when pii_class = 'phone' and length(digits) >= 9 then '27' || right(digits, 9) end),
            (case when pii_class = 'phone' and length(digits) >= 9 then '+27' || right(digits, 9) end)
        ) as f(form)
        where pii_class in ('email', 'phone', 'id_number') and f.form is not null
    ),
    pii_text_values as (
        select pii_class, origin, words, count(*) over (partition by origin, words) as repeats
        from pii_sample_forms
        where pii_class not in ('email', 'phone', 'id_number') and length(words) >= 4
          -- a short number (postal code 7839) identifies nobody and is every small integer
          and not (words ~ '^[0-9 ]+$' and length(replace(words, ' ', '')) < 8)
    ),
    pii_needles as (
        select distinct 'digits' as match, case when pii_class = 'phone' then right(digits, 9) else digits end as needle,
               null::text as key, false as multi_word, pii_class as label, origin
        from pii_sample_forms
        where pii_class in ('phone', 'id_number') and length(digits) >= 9
        union all
        select distinct 'email', lower(v), null, false, pii_class, origin
        from pii_sample_forms
        where pii_class = 'email' and v like '%@%'
        union all
        select distinct 'hash', h.hex, null, false, 'unkeyed hash of ' || pii_class, origin
        from pii_hash_inputs
        cross join lateral (values (md5(form)), (encode(sha256(convert_to(form, 'UTF8')), 'hex'))) as h(hex)
        union all
        select distinct 'text', words,
               (select t from unnest(string_to_array(words, ' ')) with ordinality as u(t, o) order by length(t) desc, o limit 1),
               words like '% %', pii_class, origin
        from pii_text_values
        where repeats < 3 or pii_class <> 'free_text'
    )
    select * from pii_needles
{%- endmacro %}
