-- mesh_db.traffic_samples as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). No PII column (user ids only):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    node_id,
    owner_user_id,
    bytes_up,
    bytes_down,
    peer_count,
    sampled_at,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('mesh_db', 'mesh_db__traffic_samples') }}
