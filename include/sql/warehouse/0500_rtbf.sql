-- data_warehouse (.106): right-to-be-forgotten (DESIGN §3 "Erasure wins over every copy").
--
-- 1. Tombstones, checked by the extract (etl_writer) and available to dbt (dbt_writer):
--    compliance.rtbf_tombstones (refs only) and compliance.rtbf_tombstone_key (the never-rotated
--    tombstone key) are a protected copy of .118's, owned by compliance_keyholder (NOLOGIN, no
--    members) like the hash keys, pulled by compliance.refresh_rtbf_tombstones() over the same
--    postgres_fdw link. Callers get membership answers, never the key.
-- 2. rtbf.erasure_journal: each cascade delete writes its journal row in the SAME transaction as
--    the delete, so a crash can never leave a deletion unrecorded; the cascade ships journal rows
--    to compliance.rtbf_evidence on .118 (idempotent by journal_id).
-- 3. rtbf_scanner (NOLOGIN, granted to warehouse_admin): reads every pipeline schema for the
--    zero-residual scan; it is not given the key tables.

-- ------------------------------------------------------------------ tombstones (compliance_keyholder)
SET LOCAL ROLE compliance_keyholder;

CREATE TABLE compliance.rtbf_tombstone_key (
    singleton boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    key       bytea       NOT NULL CHECK (octet_length(key) >= 32),
    synced_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON compliance.rtbf_tombstone_key FROM PUBLIC;

CREATE TABLE compliance.rtbf_tombstones (
    tombstone_ref text        PRIMARY KEY,
    kind          text        NOT NULL,
    created_at    timestamptz NOT NULL,
    synced_at     timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON compliance.rtbf_tombstones FROM PUBLIC;

CREATE FOREIGN TABLE compliance.remote_tombstone_key_export (key bytea NOT NULL)
    SERVER compliance_118 OPTIONS (schema_name 'compliance', table_name 'warehouse_tombstone_key_export');
CREATE FOREIGN TABLE compliance.remote_tombstone_export (
    tombstone_ref text        NOT NULL,
    kind          text        NOT NULL,
    created_at    timestamptz NOT NULL
) SERVER compliance_118 OPTIONS (schema_name 'compliance', table_name 'warehouse_tombstone_export');
REVOKE ALL ON compliance.remote_tombstone_key_export, compliance.remote_tombstone_export FROM PUBLIC;

-- Pull the tombstone key (once; it never changes) and every tombstone from .118. Returns the count.
CREATE FUNCTION compliance.refresh_rtbf_tombstones() RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer;
BEGIN
    LOCK TABLE compliance.rtbf_tombstones IN EXCLUSIVE MODE;
    INSERT INTO compliance.rtbf_tombstone_key (singleton, key)
    SELECT true, r.key FROM compliance.remote_tombstone_key_export AS r
    ON CONFLICT (singleton) DO UPDATE SET key = excluded.key, synced_at = now()
        WHERE compliance.rtbf_tombstone_key.key IS DISTINCT FROM excluded.key;
    IF NOT EXISTS (SELECT 1 FROM compliance.rtbf_tombstone_key) THEN
        RAISE EXCEPTION 'no tombstone key received from the compliance host (.118)';
    END IF;
    -- tombstones are never removed on .118: add what is new (a copy never shrinks)
    INSERT INTO compliance.rtbf_tombstones (tombstone_ref, kind, created_at)
    SELECT r.tombstone_ref, r.kind, r.created_at FROM compliance.remote_tombstone_export AS r
    ON CONFLICT (tombstone_ref) DO NOTHING;
    SELECT count(*) INTO n FROM compliance.rtbf_tombstones;
    RETURN n;
END $$;

-- Which of these values are tombstoned (kind user | email | phone | id_number)? Set-based: one key
-- read per call. Returns nothing at once when no tombstone of that kind exists.
CREATE FUNCTION compliance.rtbf_forgotten_among(p_kind text, p_values text[]) RETURNS SETOF text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT v.value
    FROM pg_catalog.unnest(p_values) AS v(value)
    WHERE EXISTS (SELECT 1 FROM compliance.rtbf_tombstones AS t WHERE t.kind OPERATOR(pg_catalog.=) p_kind)
      AND v.value IS NOT NULL
      AND pg_catalog.encode(public.hmac(
              pg_catalog.convert_to(p_kind OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||)
                                    compliance.normalise(p_kind, v.value), 'UTF8'),
              (SELECT k.key FROM compliance.rtbf_tombstone_key AS k), 'sha256'), 'hex')
          OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT t.tombstone_ref FROM compliance.rtbf_tombstones AS t
                                            WHERE t.kind OPERATOR(pg_catalog.=) p_kind))
$$;

-- Is there any tombstone at all (the extract skips its filter when there is none)?
CREATE FUNCTION compliance.rtbf_has_tombstones() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$ SELECT EXISTS (SELECT 1 FROM compliance.rtbf_tombstones) $$;

-- Keyed refs of user ids (retention: which rows belong to a user under legal hold).
CREATE FUNCTION compliance.rtbf_user_refs(p_values text[]) RETURNS TABLE (value text, ref text)
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT v.value,
           pg_catalog.encode(public.hmac(pg_catalog.convert_to('user:' OPERATOR(pg_catalog.||) v.value, 'UTF8'),
                                         (SELECT k.key FROM compliance.rtbf_tombstone_key AS k), 'sha256'), 'hex')
    FROM pg_catalog.unnest(p_values) AS v(value)
    WHERE v.value IS NOT NULL
$$;

REVOKE ALL ON FUNCTION compliance.refresh_rtbf_tombstones() FROM PUBLIC;
REVOKE ALL ON FUNCTION compliance.rtbf_forgotten_among(text, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION compliance.rtbf_has_tombstones() FROM PUBLIC;
REVOKE ALL ON FUNCTION compliance.rtbf_user_refs(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION compliance.refresh_rtbf_tombstones() TO warehouse_admin;
GRANT EXECUTE ON FUNCTION compliance.rtbf_forgotten_among(text, text[]) TO etl_writer, dbt_writer, warehouse_admin;
GRANT EXECUTE ON FUNCTION compliance.rtbf_has_tombstones() TO etl_writer, dbt_writer, warehouse_admin;
GRANT EXECUTE ON FUNCTION compliance.rtbf_user_refs(text[]) TO warehouse_admin;
GRANT USAGE ON SCHEMA compliance TO etl_writer;

RESET ROLE;

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

-- ------------------------------------------------------------------ the zero-residual scanner
DO $$
BEGIN
    CREATE ROLE rtbf_scanner NOLOGIN;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
GRANT rtbf_scanner TO warehouse_admin;
DO $$
DECLARE
    s text;
BEGIN
    FOREACH s IN ARRAY ARRAY['raw', 'staging', 'intermediate', 'marts', 'analytics', 'ml', 'dbt_artifacts',
                             'etl', 'ops', 'rtbf'] LOOP
        IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = s) THEN
            EXECUTE format('GRANT USAGE ON SCHEMA %I TO rtbf_scanner', s);
            EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO rtbf_scanner', s);
        END IF;
    END LOOP;
END $$;
ALTER DEFAULT PRIVILEGES FOR ROLE etl_writer IN SCHEMA raw GRANT SELECT ON TABLES TO rtbf_scanner;
ALTER DEFAULT PRIVILEGES FOR ROLE dbt_writer IN SCHEMA staging, intermediate, marts, analytics, ml, dbt_artifacts
    GRANT SELECT ON TABLES TO rtbf_scanner;
GRANT USAGE ON SCHEMA compliance TO rtbf_scanner;
GRANT SELECT ON compliance.rtbf_tombstones, compliance.hash_key_status TO rtbf_scanner;
GRANT USAGE ON SCHEMA public TO rtbf_scanner;
GRANT SELECT ON public.schema_migrations TO rtbf_scanner;
-- retention (the `retention` DAG, as etl_writer) keeps the rows of users under legal hold
SET LOCAL ROLE compliance_keyholder;
GRANT EXECUTE ON FUNCTION compliance.rtbf_user_refs(text[]) TO etl_writer;
RESET ROLE;
