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

{#- The registry sample's needles (match, needle, key, multi_word, label, origin), joined by every
    PII check of a dbt invocation. Built ONCE per invocation, at on-run-start (da_pii_needles_prepare),
    as the UNLOGGED table pii_guard.needles_<start>_<invocation id>, and dropped at on-run-end
    (da_pii_needles_drop). Before, every guarded model and every PII test built its own copy in a
    session temp table (dbt opens a connection per node): 90 copies per build, 66 of the 111 s of
    SQL time of one `dbt build` (issue 11). pii_guard is a PII layer (warehouse migration 0903):
    dbt_writer only, and the writer fence refuses any grant on it beyond the PII readers.
    Fallback where that table does not exist (the schema missing or not writable, an invocation
    without on-run-start): a temp table per dbt connection, private to it and gone with it. -#}
{% macro pii_needles_relation() -%}
    {%- if not execute -%}
        {{ return('pg_temp.da_pii_needles') }}
    {%- endif -%}
    {%- set shared = da_pii_needles_shared() -%}
    {%- set name = 'da_pii_needles_' ~ (invocation_id | replace('-', '')) -%}
    {#- JIT off for this dbt session: these plans (lateral regexp and generate_series, over-estimated)
        cross jit_above_cost and spent ~10x the query's own time compiling (measured: 9.8 s vs 0.8 s). -#}
    {%- set state = run_query("select set_config('jit', 'off', false) is null, to_regclass('" ~ shared ~ "') is not null, "
                              ~ "to_regclass('pg_temp." ~ name ~ "') is not null").rows[0] -%}
    {%- if state[1] -%}
        {{ return(shared) }}
    {%- endif -%}
    {%- if not state[2] -%}
        {#- analyze: without statistics the planner nested-loops the joins (measured 40 s, not 0.3 s) -#}
        {%- do run_query('create temporary table ' ~ name ~ ' as ' ~ pii_needles_sql() ~ '; analyze pg_temp.' ~ name) -%}
    {%- endif -%}
    {{ return('pg_temp.' ~ name) }}
{%- endmacro %}

{#- This invocation's shared needles table: its start (UTC) in the name lets a later invocation
    recognise a table a killed invocation left behind. -#}
{% macro da_pii_needles_shared() -%}
    {{ return('pii_guard.needles_' ~ run_started_at.strftime('%Y%m%d%H%M%S') ~ '_' ~ (invocation_id | replace('-', ''))) }}
{%- endmacro %}

{#- on-run-start: drop what invocations killed more than 6 hours ago left behind (on-run-end did not
    run for them; no build runs that long, and one that did would fail safe: its checks would find
    no sample), then build this invocation's needles. Only where the running role may create in
    pii_guard; elsewhere pii_needles_relation() falls back to a temp table per node. -#}
{% macro da_pii_needles_prepare() -%}
    {%- if execute and run_query("select coalesce(has_schema_privilege(to_regnamespace('pii_guard'), 'CREATE'), false)").columns[0].values()[0] -%}
    set jit = off;
    do $leftovers$
    declare t record;
    begin
        for t in select c.relname from pg_class c
                 where c.relnamespace = 'pii_guard'::regnamespace and c.relkind = 'r'
                   and c.relname ~ '^needles_[0-9]{14}_'
                   and to_timestamp(substr(c.relname, 9, 14), 'YYYYMMDDHH24MISS')::timestamp at time zone 'UTC'
                       < now() - interval '6 hours'
        loop
            execute format('drop table if exists pii_guard.%I', t.relname);
        end loop;
    end
    $leftovers$;
    create unlogged table {{ da_pii_needles_shared() }} as {{ pii_needles_sql() }};
    analyze {{ da_pii_needles_shared() }}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- on-run-end (after da_store_results, which re-runs failing PII tests against it) -#}
{% macro da_pii_needles_drop() -%}
    drop table if exists {{ da_pii_needles_shared() }}
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
