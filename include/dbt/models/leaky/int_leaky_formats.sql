{#-
  TEST FIXTURE (issue 10 §2): every user's phone, SA ID number and e-mail in the formats a
  pattern-only guard misses, under column names no name rule flags. Disabled unless
  --vars '{enable_leaky_formats: true}'; tests/test_dbt_build.py proves the registry-driven value
  checks stop it (guard) and name each column (PII tests -> dbt_artifacts).
-#}
{{ config(
    enabled=var('enable_leaky_formats', false),
    materialized='table',
    pii_guard=var('leaky_pii_guard', true),
) }}

with users as (
    select
        id,
        right(regexp_replace(phone, '[^0-9]', '', 'g'), 9) as nsn,
        sa_id_number as sa_id,
        email,
        address_line
    from {{ ref('stg_auth_db__users') }}
)

select
    id as row_ref,
    '27' || nsn as dial_no_plus,
    '0' || substr(nsn, 1, 2) || ' ' || substr(nsn, 3, 3) || ' ' || substr(nsn, 6, 4) as dial_spaces,
    '0' || substr(nsn, 1, 2) || '.' || substr(nsn, 3, 3) || '.' || substr(nsn, 6, 4) as dial_dots,
    '(0' || substr(nsn, 1, 2) || ') ' || substr(nsn, 3, 3) || '-' || substr(nsn, 6, 4) as dial_brackets,
    '+27 (0)' || substr(nsn, 1, 2) || ' ' || substr(nsn, 3, 3) || ' ' || substr(nsn, 6, 4) as dial_trunk_zero,
    substr(sa_id, 1, 6) || ' ' || substr(sa_id, 7, 4) || ' ' || substr(sa_id, 11, 3) as ref_separated,
    substr(sa_id, 1, 6) || '-' || substr(sa_id, 7, 4) || '-' || substr(sa_id, 11, 3) as ref_dashed,
    'Escalated by ' || upper(email) || ' via chat' as memo_escalation,
    'Parcel for ' || upper(address_line) || ', ring twice' as memo_parcel,
    encode(sha256(convert_to(lower(email), 'UTF8')), 'hex') as digest_login_sha256,
    md5('0' || nsn) as digest_dial_md5,
    upper(encode(sha256(convert_to(sa_id, 'UTF8')), 'hex')) as digest_ref_sha256,
    ('27' || nsn)::bigint as num_dial,
    sa_id::numeric(13, 0) as num_ref
from users
