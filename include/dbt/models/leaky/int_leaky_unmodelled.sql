{#-
  TEST FIXTURE (issue 10 §2): reads raw tables directly, as a model of a source nobody wrote
  staging for would, and renames every PII column to a harmless-looking name: device ids, IPs and
  coordinates of mesh_db.nodes, contact phones (as numbers) and hashed e-mails of
  butler_db.providers, KYC reviewer notes inside other text. No name rule and no value pattern
  catches these: only the registry's values do. Disabled unless --vars '{enable_leaky_formats: true}'.
-#}
{{ config(
    enabled=var('enable_leaky_formats', false),
    materialized='table',
    pii_guard=var('leaky_pii_guard', true),
) }}

select
    n.id::text as item_ref,
    n.device_id as hw_serial,
    n.last_ip as origin_host,
    'ping from ' || host(n.last_ip) || ' ok' as probe_log,
    null::bigint as dial_code,
    null::text as handle_digest,
    null::text as remark
from {{ source('mesh_db', 'mesh_db__nodes') }} as n
union all
select
    'p' || p.id,
    null,
    null,
    null,
    ('27' || right(regexp_replace(p.contact_phone, '[^0-9]', '', 'g'), 9))::bigint,
    md5(lower(p.contact_email)),
    null
from {{ source('butler_db', 'butler_db__providers') }} as p
union all
select
    'v' || v.id,
    null,
    null,
    null,
    null,
    null,
    'Case closed. ' || v.reviewer_note || ' (archived)'
from {{ source('kyc_db', 'kyc_db__verifications') }} as v
where v.reviewer_note is not null
