{#-
  kyc_db.verifications, anonymised: user hashed; the ID number becomes a keyed hash (id_number
  key: duplicate-identity checks without the number), date of birth a birth year; reviewer
  notes dropped.
-#}
{{ config(
    materialized='incremental',
    unique_key='verification_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=incremental_indexes('verification_id'),
) }}

with src as (
    select * from {{ ref('stg_kyc_db__verifications') }}
    where {{ incremental_since() }}
)

select
    src.id as verification_id,
    uh.hash as user_hash,
    src.tier,
    t.name as tier_name,
    src.document_type,
    ih.hash as identity_document_hash,
    extract(year from src.date_of_birth)::int as birth_year,
    src.status,
    src.decided_at,
    src.created_at,
    src.updated_at,
    src._extracted_at
from src
left join {{ ref('stg_kyc_db__tiers') }} as t on t.tier = src.tier
left join {{ hash_lookup('user', ['src.user_id']) }} as uh on uh.value = src.user_id::text
left join {{ hash_lookup('id_number', ['src.id_number']) }} as ih on ih.value = src.id_number
