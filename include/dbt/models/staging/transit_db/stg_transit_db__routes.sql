-- transit_db.routes as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). No PII column (user ids only):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    route_code,
    name,
    transport_mode,
    city,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('transit_db', 'transit_db__routes') }}
