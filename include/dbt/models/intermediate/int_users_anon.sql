{#-
  auth_db.users joined across sources, anonymised (runbook 2.4): one row per user, keyed by
  user_hash = HMAC-SHA256(users.id, active 'user' salt) computed inside PostgreSQL. Names,
  email, phone, SA ID, address, exact location, device and IP never pass this model; date of
  birth becomes a birth year, the address a province/city. Rebuilt each run (a dimension: its
  cost follows the user count, and a KYC or wallet change must reach unchanged users).
-#}
{{ config(
    materialized='table',
    indexes=[{'columns': ['user_hash'], 'unique': true}],
) }}

with users as (
    select * from {{ ref('stg_auth_db__users') }}
),

kyc as (
    select distinct on (user_id)
        user_id, tier as kyc_tier, status as kyc_status
    from {{ ref('stg_kyc_db__verifications') }}
    order by user_id, (status = 'approved') desc, tier desc, created_at desc
),

ledger as (
    select user_id, count(*) as ledger_accounts from {{ ref('stg_ledger_db__accounts') }} group by user_id
),

wallets as (
    select user_id, count(*) as sdpkt_wallets from {{ ref('stg_sdpkt_db__wallets') }} group by user_id
),

mesh as (
    select distinct on (owner_user_id) owner_user_id as user_id, node_class as mesh_node_class
    from {{ ref('stg_mesh_db__nodes') }}
    order by owner_user_id, case node_class when 'gateway' then 1 when 'relay' then 2 else 3 end
),

hashed as {{ hash_lookup('user', ['users.id']) }}

select
    h.hash as user_hash,
    u.status,
    u.deleted_at is not null as is_deleted,
    u.country_code,
    u.province,
    u.city,
    u.preferred_language,
    u.marketing_opt_in,
    extract(year from u.date_of_birth)::int as birth_year,
    u.created_at::date as signup_date,
    kyc.kyc_tier,
    kyc.kyc_status,
    coalesce(ledger.ledger_accounts, 0) as ledger_accounts,
    coalesce(wallets.sdpkt_wallets, 0) as sdpkt_wallets,
    mesh.mesh_node_class,
    u.updated_at,
    u._extracted_at
from users as u
join hashed as h on h.value = u.id::text
left join kyc on kyc.user_id = u.id
left join ledger on ledger.user_id = u.id
left join wallets on wallets.user_id = u.id
left join mesh on mesh.user_id = u.id
