-- data_warehouse (.106): right-to-be-forgotten (DESIGN §3 "Erasure wins over every copy").
--
-- 1. Tombstones, checked by the extract (etl_writer) and available to dbt (dbt_writer):
--    compliance.rtbf_tombstones holds the refs (HMAC under the durable `erasure` key, never an id),
--    pulled from .118 by compliance.refresh_rtbf_tombstones() over the key link; membership is
--    tested with the warehouse's protected copy of the erasure key (compliance.hash_keys, owner
--    compliance_keyholder). Callers get membership answers, never a key. Salt rotation never
--    touches the erasure family, so a tombstone matches after any number of rotations.
-- 2. rtbf.erasure_journal: each cascade delete writes its journal row in the SAME transaction as
--    the delete, so a crash can never leave a deletion unrecorded; the cascade ships journal rows
--    to compliance.rtbf_evidence on .118 (idempotent by journal_id).
-- 3. The zero-residual scanner is 0901_rtbf_scanner.sql (after the writer fence of 0600).
--
-- Numbered 09xx (not 05xx) so that it runs after 0600_least_privilege_fences.sql: every statement
-- here passes the writer fence's event trigger.

-- ------------------------------------------------------------------ tombstones (compliance_keyholder)
SET LOCAL ROLE compliance_keyholder;

CREATE TABLE compliance.rtbf_tombstones (
    tombstone_ref text        PRIMARY KEY,
    kind          text        NOT NULL,
    created_at    timestamptz NOT NULL,
    synced_at     timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON compliance.rtbf_tombstones FROM PUBLIC;

CREATE FOREIGN TABLE compliance.remote_tombstone_export (
    tombstone_ref text        NOT NULL,
    kind          text        NOT NULL,
    created_at    timestamptz NOT NULL
) SERVER compliance_118 OPTIONS (schema_name 'compliance', table_name 'warehouse_tombstone_export');
REVOKE ALL ON compliance.remote_tombstone_export FROM PUBLIC;

-- Pull every tombstone from .118 (tombstones are never removed: the copy only grows). Returns the count.
CREATE FUNCTION compliance.refresh_rtbf_tombstones() RETURNS pg_catalog.int8
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    LOCK TABLE compliance.rtbf_tombstones IN EXCLUSIVE MODE;
    INSERT INTO compliance.rtbf_tombstones (tombstone_ref, kind, created_at)
    SELECT r.tombstone_ref, r.kind, r.created_at FROM compliance.remote_tombstone_export AS r
    ON CONFLICT (tombstone_ref) DO NOTHING;
    RETURN (SELECT pg_catalog.count(*) FROM compliance.rtbf_tombstones);
END $$;

-- Which of these values are tombstoned (kind user | email | phone | id_number)? Set-based: one key
-- read per call; returns nothing at once when no tombstone of that kind exists.
CREATE FUNCTION compliance.rtbf_forgotten_among(p_kind pg_catalog.text, p_values pg_catalog.text[])
    RETURNS SETOF pg_catalog.text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT v.value
    FROM pg_catalog.unnest(p_values) AS v(value)
    WHERE EXISTS (SELECT 1 FROM compliance.rtbf_tombstones AS t WHERE t.kind OPERATOR(pg_catalog.=) p_kind)
      AND v.value IS NOT NULL
      AND pg_catalog.encode(public.hmac(pg_catalog.convert_to(
              CASE WHEN p_kind OPERATOR(pg_catalog.=) 'user'::pg_catalog.text THEN v.value
                   ELSE p_kind OPERATOR(pg_catalog.||) ':'::pg_catalog.text OPERATOR(pg_catalog.||)
                        compliance.normalise(p_kind, v.value) END, 'UTF8'::pg_catalog.name),
              (SELECT k.salt FROM compliance.hash_keys AS k
               WHERE k.salt_family OPERATOR(pg_catalog.=) 'erasure'::pg_catalog.text
                 AND k.status OPERATOR(pg_catalog.=) 'active'::pg_catalog.text), 'sha256'::pg_catalog.text),
              'hex'::pg_catalog.text)
          OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT t.tombstone_ref FROM compliance.rtbf_tombstones AS t
                                            WHERE t.kind OPERATOR(pg_catalog.=) p_kind))
$$;

-- Is there any tombstone at all (the extract skips its filter when there is none)?
CREATE FUNCTION compliance.rtbf_has_tombstones() RETURNS pg_catalog.bool
    LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$ SELECT EXISTS (SELECT 1 FROM compliance.rtbf_tombstones) $$;

REVOKE ALL ON FUNCTION compliance.refresh_rtbf_tombstones() FROM PUBLIC;
REVOKE ALL ON FUNCTION compliance.rtbf_forgotten_among(pg_catalog.text, pg_catalog.text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION compliance.rtbf_has_tombstones() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION compliance.refresh_rtbf_tombstones() TO warehouse_admin;
GRANT EXECUTE ON FUNCTION compliance.rtbf_forgotten_among(pg_catalog.text, pg_catalog.text[])
    TO etl_writer, dbt_writer, warehouse_admin;
GRANT EXECUTE ON FUNCTION compliance.rtbf_has_tombstones() TO etl_writer, dbt_writer, warehouse_admin;
-- retention (as etl_writer) keeps the rows of users under legal hold: it matches them by erasure ref
GRANT EXECUTE ON FUNCTION compliance.hash_erasure(pg_catalog.text[]) TO etl_writer;

RESET ROLE;
GRANT USAGE ON SCHEMA compliance TO etl_writer;

-- ------------------------------------------------------------------ erasure journal
CREATE SCHEMA rtbf;
CREATE TABLE rtbf.erasure_journal (
    journal_id    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    request_id    text        NOT NULL,
    run_id        text        NOT NULL,
    layer         text        NOT NULL,
    target        text        NOT NULL,
    action        text        NOT NULL,
    rows_affected bigint      NOT NULL CHECK (rows_affected >= 0),
    done_at       timestamptz NOT NULL DEFAULT now(),
    shipped_at    timestamptz
);
CREATE INDEX erasure_journal_unshipped ON rtbf.erasure_journal (request_id) WHERE shipped_at IS NULL;
REVOKE ALL ON SCHEMA rtbf FROM PUBLIC;
GRANT USAGE ON SCHEMA rtbf TO etl_writer, dbt_writer, warehouse_admin;
-- writers record what they deleted; they cannot rewrite or remove a record
GRANT INSERT ON rtbf.erasure_journal TO etl_writer, dbt_writer;
GRANT SELECT, UPDATE (shipped_at) ON rtbf.erasure_journal TO warehouse_admin;
