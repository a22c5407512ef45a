{#-
  Incremental window on the extract time. The 5-minute runs read only rows extracted since the
  last build (minus a look-back), so their cost follows the new rows, not the table size: the
  filtered column must be indexed (raw.*._extracted_at, and the `indexes` of each model).
  The watermark is read first and inlined as a literal: a sub-select would be an InitPlan the
  planner cannot estimate (1/3 of the table), and on a 10M-row table it then scans everything.
-#}
{% macro incremental_since(column='_extracted_at', this_column='_extracted_at') -%}
    {%- if is_incremental() -%}
        {%- set watermark = '-infinity' -%}
        {%- if execute -%}
            {%- set found = run_query(
                "select (max(" ~ this_column ~ ") - interval '" ~ var('incremental_lookback') ~ "')::text from " ~ this
            ).columns[0].values()[0] -%}
            {%- set watermark = found if found is not none else '-infinity' -%}
        {%- endif -%}
    {{ column }} > '{{ watermark }}'::timestamptz
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}

{#-
  Standard index set of an incremental model: unique key, extract time, event time - all of them
  (almost) append-only for new events, so a 5-minute increment touches the right edge of each
  index whatever the table size. No secondary indexes on hashes or UUIDs: an insert into such an
  index lands on a random page, and on a large table that is a cache miss per row (measured:
  30k rows into a 10M-row fact with user_hash and txn_ref indexes took 8 s, without them < 1 s).
-#}
{% macro incremental_indexes(unique_key, event_column='created_at', extra=[]) -%}
    {%- set keys = unique_key if unique_key is not string else [unique_key] -%}
    {%- set indexes = [{'columns': keys, 'unique': true}, {'columns': ['_extracted_at']}] -%}
    {%- if event_column -%}{%- do indexes.append({'columns': [event_column]}) -%}{%- endif -%}
    {%- for columns in extra -%}{%- do indexes.append({'columns': columns}) -%}{%- endfor -%}
    {{ return(indexes) }}
{%- endmacro %}

{#-
  After a full build (first run, --full-refresh, or a table model) the relation has no planner
  statistics yet; without them the incremental runs' range and key look-ups on a large table
  are estimated as scans. Pre-hook: remember whether this build is a full one; post-hook:
  ANALYZE it then (sampled: constant cost whatever the size). Incremental runs skip it
  (autovacuum keeps the statistics current; values past the histogram are probed in the index).
-#}
{% macro da_mark_full_build() -%}
    select set_config('da.full_build', '{{ "off" if (model.config.materialized == "view" or is_incremental()) else "on" }}', false)
{%- endmacro %}

{% macro da_analyze_full_build() -%}
    {%- if execute and model.config.materialized in ['table', 'incremental']
          and run_query("select current_setting('da.full_build', true)").columns[0].values()[0] == 'on' -%}
    analyze {{ this }}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- One builder per model at a time, whoever runs dbt (Airflow, a developer, a test). -#}
{% macro da_model_lock() -%}
    select pg_advisory_xact_lock(hashtext('dataacuity.dbt:{{ this.schema }}.{{ this.identifier }}'))
{%- endmacro %}
