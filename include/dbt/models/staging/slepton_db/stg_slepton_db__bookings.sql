-- slepton_db.bookings as extracted: one row per primary key (id; raw's PRIMARY KEY deduplicates),
-- source types kept (enums arrive as text). No PII column (user ids only):
-- staging is readable by dbt alone; the PII boundary is intermediate.
select
    id,
    listing_id,
    guest_user_id,
    check_in,
    check_out,
    guests,
    amount,
    currency,
    status,
    created_at,
    updated_at,
    _extracted_at,
    _extract_batch_id
from {{ source('slepton_db', 'slepton_db__bookings') }}
