{#-
  ledger_db.transactions, anonymised (runbook 2.5): user hashed; the free-text description
  (names of transfer counterparties), account ids and metadata are dropped (app_version kept).
  Incremental: each run reads only rows extracted since the last one.
-#}
{{ config(
    materialized='incremental',
    unique_key='transaction_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=incremental_indexes('transaction_id'),
) }}

with src as (
    select * from {{ ref('stg_ledger_db__transactions') }}
    where {{ incremental_since() }}
)

select
    src.id as transaction_id,
    src.txn_ref,
    uh.hash as user_hash,
    src.txn_type,
    src.status,
    src.amount,
    src.currency,
    src.channel,
    src.metadata ->> 'app_version' as app_version,
    src.posted_at,
    src.created_at,
    src.updated_at,
    src._extracted_at
from src
left join {{ hash_lookup('user', ['src.user_id']) }} as uh on uh.value = src.user_id::text
