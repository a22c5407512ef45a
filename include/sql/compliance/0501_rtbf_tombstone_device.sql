-- compliance (.118): tombstones also cover a forgotten user's device ids (kind 'device', the hash
-- family of the registry class device_id: card uids, phone/tablet ids). dbt's
-- hash_lookup gives a tombstoned value no pseudonym, so a rebuild from raw never brings the user's
-- device or card pseudonym back through another row (an anonymous tap of their card, a shared
-- tablet) — the same outcome the cascade gives the rows it finds in place.
SET LOCAL ROLE compliance_admin;

ALTER TABLE compliance.rtbf_tombstone DROP CONSTRAINT rtbf_tombstone_kind_check;
ALTER TABLE compliance.rtbf_tombstone ADD CONSTRAINT rtbf_tombstone_kind_check
    CHECK (kind IN ('user', 'email', 'phone', 'id_number', 'device'));

RESET ROLE;
