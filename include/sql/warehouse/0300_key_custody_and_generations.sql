-- data_warehouse (.106): key custody that survives an attacker, and key generations (issue 8).
-- Design and threat model: docs/compliance-hashing.md.
--
-- 1. The key copy holds generations: compliance.hash_keys (salt_family, salt_id, salt, status) with
--    status 'active' (what dbt hashes with) or 'pending' (a rotation's new generation, used only
--    by the shadow build). compliance.promote_pending_keys() makes pending active and DROPS the old
--    key from the warehouse, inside the rotation's swap transaction.
-- 2. The link pulls WRAPPED keys (compliance.key_wrap, set by install_key_link()) and unwraps them
--    here, inside a SECURITY DEFINER function: the .118 login of the link never reads a key.
-- 3. warehouse_admin loses CREATEROLE: on PostgreSQL 15 it could grant itself compliance_keyholder
--    (and so read the key). The kill switch's two membership changes become SECURITY DEFINER
--    functions of a NOLOGIN role, executable by warehouse_admin.
-- 4. Every privileged function pins search_path and qualifies its operators and calls; EXECUTE
--    only for named roles. dbt_writer may create schemas (rotation's shadow schemas).

-- ------------------------------------------------------------------ warehouse_admin: no CREATEROLE
DO $$
BEGIN
    CREATE ROLE write_path_admin NOLOGIN NOINHERIT CREATEROLE;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
ALTER ROLE warehouse_admin NOCREATEROLE;

CREATE FUNCTION ops.kill_switch_revoke_write_paths() RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    REVOKE etl_writer FROM etl_user;
    REVOKE dbt_writer FROM dbt_runner;
END $$;
CREATE FUNCTION ops.kill_switch_restore_write_paths() RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    GRANT etl_writer TO etl_user;
    GRANT dbt_writer TO dbt_runner;
END $$;
ALTER FUNCTION ops.kill_switch_revoke_write_paths() OWNER TO write_path_admin;
ALTER FUNCTION ops.kill_switch_restore_write_paths() OWNER TO write_path_admin;
REVOKE ALL ON FUNCTION ops.kill_switch_revoke_write_paths(), ops.kill_switch_restore_write_paths() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.kill_switch_revoke_write_paths(), ops.kill_switch_restore_write_paths() TO warehouse_admin;

-- ------------------------------------------------------------------ rotation's shadow schemas
GRANT CREATE ON DATABASE data_warehouse TO dbt_writer;

SET LOCAL ROLE compliance_keyholder;

-- ------------------------------------------------------------------ generations in the key copy
ALTER TABLE compliance.hash_keys
    ADD COLUMN status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'pending')),
    DROP CONSTRAINT hash_keys_pkey,
    ADD PRIMARY KEY (salt_id);
CREATE UNIQUE INDEX hash_keys_one_active ON compliance.hash_keys (salt_family) WHERE status = 'active';
CREATE UNIQUE INDEX hash_keys_one_pending ON compliance.hash_keys (salt_family) WHERE status = 'pending';

CREATE TABLE compliance.key_wrap (
    wrap_id    integer     PRIMARY KEY DEFAULT 1 CHECK (wrap_id = 1),
    wrap_key   bytea       NOT NULL CHECK (octet_length(wrap_key) >= 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON compliance.key_wrap FROM PUBLIC;

DROP FOREIGN TABLE compliance.remote_key_export;
CREATE FOREIGN TABLE compliance.remote_key_export (
    salt_id      integer     NOT NULL,
    salt_family  text        NOT NULL,
    salt_wrapped bytea       NOT NULL,
    created_at   timestamptz NOT NULL,
    status       text        NOT NULL
) SERVER compliance_118 OPTIONS (schema_name 'compliance', table_name 'warehouse_key_export');
REVOKE ALL ON compliance.remote_key_export FROM PUBLIC;

CREATE OR REPLACE VIEW compliance.hash_key_status AS
SELECT salt_family, salt_id, source_created_at, synced_at,
       pg_catalog.left(pg_catalog.encode(pg_catalog.sha256(pg_catalog.sha256(salt)), 'hex'), 16) AS fingerprint,
       status
FROM compliance.hash_keys;

-- Pull the active and pending generations of .118 into the copy. Returns what is loaded, by
-- fingerprint; never a key. A generation that left .118 (retired) leaves the copy too.
DROP FUNCTION compliance.refresh_hash_keys();
CREATE FUNCTION compliance.refresh_hash_keys()
    RETURNS TABLE (salt_family text, salt_id integer, fingerprint text, changed boolean, status text)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_wrap     text;
    v_previous integer[];
BEGIN
    LOCK TABLE compliance.hash_keys IN EXCLUSIVE MODE;
    v_wrap := pg_catalog.encode((SELECT w.wrap_key FROM compliance.key_wrap AS w), 'hex');
    IF v_wrap IS NULL THEN
        RAISE EXCEPTION 'the key link is not installed (no wrap key): run python -m dataacuity.compliance link';
    END IF;
    v_previous := ARRAY(SELECT k.salt_id FROM compliance.hash_keys AS k);
    DELETE FROM compliance.hash_keys;
    INSERT INTO compliance.hash_keys (salt_family, salt_id, salt, source_created_at, status)
    SELECT r.salt_family, r.salt_id, public.pgp_sym_decrypt_bytea(r.salt_wrapped, v_wrap), r.created_at, r.status
    FROM compliance.remote_key_export AS r;
    IF NOT EXISTS (SELECT 1 FROM compliance.hash_keys AS k
                   WHERE k.salt_family OPERATOR(pg_catalog.=) 'user' AND k.status OPERATOR(pg_catalog.=) 'active') THEN
        RAISE EXCEPTION 'no active salts received from the compliance host (.118): nothing refreshed';
    END IF;
    RETURN QUERY
        SELECT s.salt_family, s.salt_id, s.fingerprint,
               NOT (s.salt_id OPERATOR(pg_catalog.=) ANY (v_previous)), s.status
        FROM compliance.hash_key_status AS s
        ORDER BY s.salt_family, s.status;
END $$;

-- Inside the rotation's swap transaction: pending -> active, and the previous generation of those
-- families is deleted from the warehouse (it can produce no pseudonym here any more). Returns the
-- promoted families. Idempotent (nothing pending: nothing happens).
CREATE FUNCTION compliance.promote_pending_keys()
    RETURNS TABLE (salt_family text, salt_id integer)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    LOCK TABLE compliance.hash_keys IN EXCLUSIVE MODE;
    DELETE FROM compliance.hash_keys AS k
     WHERE k.status OPERATOR(pg_catalog.=) 'active'
       AND k.salt_family IN (SELECT p.salt_family FROM compliance.hash_keys AS p
                             WHERE p.status OPERATOR(pg_catalog.=) 'pending');
    RETURN QUERY
        UPDATE compliance.hash_keys AS k SET status = 'active', synced_at = pg_catalog.now()
         WHERE k.status OPERATOR(pg_catalog.=) 'pending'
        RETURNING k.salt_family, k.salt_id;
END $$;

-- Start clean: drop pending generations from the copy (the rotation was abandoned on .118).
CREATE FUNCTION compliance.discard_pending_keys() RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer;
BEGIN
    DELETE FROM compliance.hash_keys AS k WHERE k.status OPERATOR(pg_catalog.=) 'pending';
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

CREATE OR REPLACE FUNCTION compliance.assert_hash_keys_loaded() RETURNS integer
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_salt_id integer;
BEGIN
    SELECT k.salt_id INTO v_salt_id FROM compliance.hash_keys AS k
     WHERE k.salt_family OPERATOR(pg_catalog.=) 'user' AND k.status OPERATOR(pg_catalog.=) 'active';
    IF v_salt_id IS NULL THEN
        RAISE EXCEPTION 'compliance.hash_keys is empty on the warehouse: run the key link set-up '
            '(python -m dataacuity.compliance link) or SELECT * FROM compliance.refresh_hash_keys() as warehouse_admin';
    END IF;
    RETURN v_salt_id;
END $$;

-- ------------------------------------------------------------------ privileges: named roles only
REVOKE ALL ON FUNCTION compliance.refresh_hash_keys(), compliance.promote_pending_keys(),
                       compliance.discard_pending_keys(), compliance.assert_hash_keys_loaded() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION compliance.refresh_hash_keys() TO warehouse_admin;
GRANT EXECUTE ON FUNCTION compliance.assert_hash_keys_loaded() TO warehouse_admin, dbt_writer;
-- the swap runs as dbt_writer (it owns the layer schemas it renames), in one transaction
GRANT EXECUTE ON FUNCTION compliance.promote_pending_keys() TO dbt_writer;
GRANT EXECUTE ON FUNCTION compliance.discard_pending_keys() TO warehouse_admin;
GRANT SELECT ON compliance.hash_key_status TO dbt_writer, warehouse_admin;

RESET ROLE;
