-- mesh_db.nodes as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). PII still here (device_id, latitude, longitude, last_ip):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    owner_user_id,
    device_id,
    node_class,
    firmware_version,
    latitude,
    longitude,
    last_ip,
    last_seen_at,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('mesh_db', 'mesh_db__nodes') }}
