{#-
  PII-absence rules (runbook 2.3, Anonymisation Standard §7), shared by the generic tests
  no_pii_column_names / no_pii_values and by the post-hook guard da_pii_guard().

  (a) column names that denote PII: the patterns below, plus every column the source registry
      classifies as PII (config/sources.yml `pii:` -> sources meta.pii_class) in the source tables
      the model is built from (per source table: registry_pii_column_names(node)). A name ending in
      _hash or _token is a pseudonym and allowed.
  (b) values that look like PII: emails; SA phone numbers (+27 / 0027 / 0 and 9 digits, spaces
      or dashes allowed between groups); SA ID numbers (13 digits, plausible birth date, valid
      Luhn digit: compliance.contains_sa_id_number); any first name, last name, full name or email
      of staging's users (case-insensitive, 3+ characters). Whole-value 64-hex hashes and vault
      tokens are skipped (hex runs inside them could look like numbers).
  (c) the registry's own values: a sample of every declared PII column of every source,
      normalised (phone/ID digits, e-mails, unkeyed md5/sha256, words), in text and numeric
      columns (pii_sample.sql).
  Findings name the column and the kind, with counts: never the offending value.
-#}

{% macro pii_column_name_patterns() -%}
    {{ return([
        '(^|_)(e_?mail|email_address)(_|$)',
        '(^|_)(phone|mobile|msisdn|cell|cellphone|telephone|tel|fax)(_|$)',
        '(^|_)(first|last|middle|given|family|full|display|sur|maiden|person|contact|recipient|sender)_?name(_|$)',
        '^(name|surname)$',
        '(^|_)(sa_)?id_?number(_|$)',
        '(^|_)(passport|national_id|identity_number|id_no)(_|$)',
        '(^|_)(address|address_line|street|postal_code|postcode|zip|zipcode)(_|$)',
        '(^|_)(lat|latitude|lng|lon|long|longitude|coordinates|geo_point|gps)(_|$)',
        '(^|_)(ip|ip_address|ipv4|ipv6|last_ip)(_|$)',
        '(^|_)(device|device_id|imei|mac_address|card_uid|advertising_id)(_|$)',
        '(^|_)(dob|date_of_birth|birth_date|birthdate|birthday)(_|$)',
        '(^|_)user_agent(_|$)',
        '(^|_)user_id$',
        '(^|_)(note|notes|body|instructions|comment|comments|details|reviewer_note)(_|$)'
    ]) }}
{%- endmacro %}

{#- The sources a node is built from, through any number of models (issue 10: per-source rules). -#}
{% macro _da_collect_sources(node_ids, found, seen) -%}
    {%- for uid in node_ids if uid not in seen -%}
        {%- do seen.append(uid) -%}
        {%- if uid.startswith('source.') -%}
            {%- do found.append(uid) -%}
        {%- elif uid in graph.nodes -%}
            {%- do _da_collect_sources(graph.nodes[uid].depends_on.nodes, found, seen) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}

{#- The model node of a relation (tests get the relation, hooks the node). -#}
{% macro da_node_of(relation) -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.relation_name == (relation | string) -%}
        {{ return(node) }}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}

{#- Column names the registry classifies as PII (the generated sources' meta.pii_class), PER SOURCE
    TABLE: with a node, only the source tables it is built from count, so a column marked PII in
    one source does not condemn the same name in another (issue 10). Without one: every source. -#}
{% macro registry_pii_column_names(node=none) -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- set upstream = [] -%}
        {%- if node is not none -%}
            {%- do _da_collect_sources(node.depends_on.nodes, upstream, []) -%}
        {%- endif -%}
        {%- for source in graph.sources.values() if node is none or source.unique_id in upstream -%}
            {%- for column in source.columns.values() -%}
                {%- if column.meta.get('pii_class') and (column.name | lower) not in names -%}
                    {%- do names.append(column.name | lower) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(names) }}
{%- endmacro %}

{#- [{'column': ..., 'reason': ...}] for the column names that denote PII (node: the model, for the
    per-source registry rules). -#}
{% macro pii_column_name_violations(column_names, node=none) -%}
    {%- set registry_names = registry_pii_column_names(node) -%}
    {%- set patterns = pii_column_name_patterns() -%}
    {%- set found = [] -%}
    {%- for raw_name in column_names -%}
        {%- set name = raw_name | lower -%}
        {%- if not modules.re.search('_(hash|token)$', name) -%}
            {%- if name in registry_names -%}
                {%- do found.append({'column': raw_name, 'reason': 'registry PII column'}) -%}
            {%- else -%}
                {%- for pattern in patterns -%}
                    {%- if modules.re.search(pattern, name) and found | selectattr('column', 'equalto', raw_name) | list | length == 0 -%}
                        {%- do found.append({'column': raw_name, 'reason': 'name matches ' ~ pattern}) -%}
                    {%- endif -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}

{#- Columns whose values are checked: anything holding text. -#}
{% macro pii_text_columns(columns) -%}
    {%- set text_types = ['text', 'character varying', 'varchar', 'character', 'char', 'bpchar', 'json', 'jsonb',
                          'array', 'user-defined', 'citext', 'name', 'inet', 'cidr', 'macaddr'] -%}
    {%- set picked = [] -%}
    {%- for column in columns -%}
        {%- set dtype = (column.data_type or column.dtype or '') | lower -%}
        {%- if dtype.split('(')[0] | trim in text_types or dtype.endswith('[]') -%}
            {%- do picked.append(column.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(picked) }}
{%- endmacro %}

{#- Numeric columns: checked for phone and ID numbers of the registry sample (digits). -#}
{% macro pii_number_columns(columns) -%}
    {%- set number_types = ['smallint', 'integer', 'bigint', 'numeric', 'decimal', 'real', 'double precision'] -%}
    {%- set picked = [] -%}
    {%- for column in columns -%}
        {%- set dtype = (column.data_type or column.dtype or '') | lower -%}
        {%- if dtype.split('(')[0] | trim in number_types -%}
            {%- do picked.append(column.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(picked) }}
{%- endmacro %}

{#-
  A query returning (column_name, kind, n_rows) for every kind of PII-looking value found in
  `relation` (restricted by `where`): the patterns of (b) in the text columns, and the registry
  sample's values (pii_sample.sql) in the text columns and, as digits, the numeric columns.
  One scan of the relation whatever the number of columns; the sample is joined by hash.
-#}
{% macro pii_value_check_sql(relation, text_columns, where='true', number_columns=[]) -%}
    {%- set users = api.Relation.create(database=target.database, schema='staging', identifier='stg_auth_db__users') -%}
    {%- if (text_columns | length) + (number_columns | length) == 0 -%}
    select null::text as column_name, null::text as kind, 0::bigint as n_rows where false
    {%- else -%}
    {%- set needles = pii_needles_relation() -%}
    with user_names as (
        select distinct n
        from (
            select lower(btrim(first_name)) as n from {{ users }}
            union all select lower(btrim(last_name)) from {{ users }}
            union all select lower(btrim(first_name || ' ' || last_name)) from {{ users }}
            union all select lower(btrim(email)) from {{ users }}
        ) as u
        where length(n) >= 3
    ),
    -- each distinct value once (n = its rows); numbers only from 9 digits up (phone and ID numbers);
    -- hashes and vault tokens are only compared as hashes
    cells as materialized (
        select column_name, v, is_number, n,
               not is_number and (v ~ '^[0-9a-f]{64}$' or v ~ '^tok_[a-z_]+_[0-9a-f]{32}$') as hashlike
        from (
            select c.column_name, c.v, c.is_number, count(*) as n
            from {{ relation }} as t
            cross join lateral (values
                {%- for column in text_columns %}
                ('{{ column }}', t.{{ adapter.quote(column) }}::text, false),
                {%- endfor %}
                {%- for column in number_columns %}
                ('{{ column }}', case when abs(t.{{ adapter.quote(column) }}) >= 100000000 then t.{{ adapter.quote(column) }}::text end, true),
                {%- endfor %}
                (null, null, null)
            ) as c(column_name, v, is_number)
            where ({{ where }}) and c.v is not null
            group by 1, 2, 3
        ) as d
    ),
    classified as (
        select column_name, n,
               case
                   when v ~* '[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}' then 'email'
                   when v ~ '(^|[^0-9A-Za-z+])(\+27|0027|0)[ -]?[0-9]{2}[ -]?[0-9]{3}[ -]?[0-9]{4}($|[^0-9A-Za-z])'
                       then 'sa_phone_number'
                   when v ~ '[0-9]{13}' and compliance.contains_sa_id_number(v) then 'sa_id_number'
                   when lower(btrim(v)) in (select n from user_names) then 'user_name_or_email'
               end as kind
        from cells
        where not is_number and not hashlike
    ),
    -- text as words: lower-case, runs of non-alphanumerics -> one space
    cell_words as (
        select column_name, v, n, btrim(regexp_replace(lower(v), '[^[:alnum:]]+', ' ', 'g')) as words
        from cells
        where not is_number and not hashlike and length(v) >= 4
    ),
    sample_hits as (
        -- phone and ID numbers: separators dropped, every 9+ digit run cut into windows of each needle length
        select d.column_name, d.v, d.n, k.label, k.origin
        from (
            select c.column_name, c.v, c.n, r.m[1] as run
            from cells as c
            cross join lateral regexp_matches(translate(c.v, ' .()/+-' || chr(9) || chr(10) || chr(13), ''), '[0-9]{9,}', 'g') as r(m)
            where length(c.v) >= 9 and not c.hashlike
        ) as d
        cross join (select distinct length(needle) as len from {{ needles }} where match = 'digits') as l
        cross join lateral generate_series(1, length(d.run) - l.len + 1) as w(i)
        join {{ needles }} as k on k.match = 'digits' and k.needle = substr(d.run, w.i, l.len)
        union
        select c.column_name, c.v, c.n, k.label, k.origin
        from cells as c
        cross join lateral regexp_matches(lower(c.v), '[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+', 'g') as r(m)
        join {{ needles }} as k on k.match = 'email' and k.needle = r.m[1]
        where not c.is_number and c.v like '%@%'
        union
        select c.column_name, c.v, c.n, k.label, k.origin
        from cells as c
        cross join lateral regexp_matches(lower(c.v), '[0-9a-f]{32,}', 'g') as r(m)
        join {{ needles }} as k on k.match = 'hash' and k.needle = r.m[1]
        where not c.is_number and length(c.v) >= 32 and c.v ~* '[0-9a-f]{32}'
        union
        -- other classes: a whole cell, or a multi-word value inside a cell at word boundaries
        select w.column_name, w.v, w.n, k.label, k.origin
        from cell_words as w
        join {{ needles }} as k on k.match = 'text' and k.needle = w.words
        union
        select w.column_name, w.v, w.n, k.label, k.origin
        from cell_words as w
        cross join lateral (select distinct t from unnest(string_to_array(w.words, ' ')) as t) as tok
        join {{ needles }} as k on k.match = 'text' and k.multi_word and k.key = tok.t
        where w.words like '% %' and position(' ' || k.needle || ' ' in ' ' || w.words || ' ') > 0
    )
    select column_name, kind, sum(n)::bigint as n_rows
    from classified
    where kind is not null
    group by column_name, kind
    union all
    select column_name, 'registry ' || label || ' values of ' || string_agg(distinct origin, ', ' order by origin),
           (sum(n) filter (where nth = 1))::bigint
    from (
        select *, row_number() over (partition by column_name, label, v) as nth from sample_hits
    ) as hits
    group by column_name, label
    {%- endif -%}
{%- endmacro %}

{#- Row filter of the tests: recent rows on the 5-minute runs, everything when full_scan. -#}
{% macro pii_test_scope(column_names) -%}
    {%- if not var('full_scan', false) and '_extracted_at' in column_names -%}
        _extracted_at > now() - interval '{{ var("test_window") }}'
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
