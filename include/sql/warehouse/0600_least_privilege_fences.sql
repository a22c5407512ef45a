-- Least privilege against an attacker (issue 10; security posture §7-8, DESIGN §6).
-- Closes the routes an adversarial review used, and makes the database refuse them from now on:
--
-- 1. (warehouse_admin lost CREATEROLE in 0300_key_custody_and_generations.sql: the kill switch runs
--    through ops.kill_switch_revoke_write_paths()/restore_write_paths() of write_path_admin.)
-- 2. pipeline_monitor reads no personal data: no SELECT on raw.* any more. Freshness comes from the
--    batch log (etl.extract_batch, indexed), see include/sql/freshness/.
-- 3. New functions get no EXECUTE for PUBLIC (default privileges of every role that creates
--    functions here), and nobody but the owner of a large object can create one (large objects
--    would be a write path that survives the kill switch).
-- 4. An event trigger refuses, at the statement that tries it, every way a writer role could keep
--    writing (or leak PII) through another role while the kill switch revokes its members:
--    SECURITY DEFINER code owned by a writer role, write privileges on writer-owned objects granted
--    to anyone, any privilege on raw/staging granted beyond dbt_writer, and default privileges
--    that would do either for objects created later.

-- 2. -------------------------------------------------------------------------------------------
REVOKE SELECT ON ALL TABLES IN SCHEMA raw FROM pipeline_monitor;
ALTER DEFAULT PRIVILEGES FOR ROLE etl_writer IN SCHEMA raw REVOKE SELECT ON TABLES FROM pipeline_monitor;
REVOKE USAGE ON SCHEMA raw FROM pipeline_monitor;
-- Only the columns the freshness monitor needs: not `error` (an error text can quote a source value),
-- and not the watermarks.
REVOKE SELECT ON etl.extract_batch, etl.extract_watermark FROM pipeline_monitor;
GRANT SELECT (batch_id, source_db, table_name, mode, window_start, window_end, rows_read, rows_inserted,
              rows_updated, rows_deleted, duration_ms, replica_lag_s, status, started_at, finished_at)
    ON etl.extract_batch TO pipeline_monitor;
-- "Last batch that brought rows" per table without a scan: the freshness monitor's second figure.
CREATE INDEX extract_batch_last_rows ON etl.extract_batch (source_db, table_name, finished_at DESC)
    WHERE status = 'success' AND rows_inserted > 0;

-- 3. -------------------------------------------------------------------------------------------
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;                  -- postgres
ALTER DEFAULT PRIVILEGES FOR ROLE etl_writer REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE dbt_writer REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE etl_user, dbt_runner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE compliance_keyholder REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE write_path_admin REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pg_catalog.lo_creat(integer), pg_catalog.lo_create(oid),
    pg_catalog.lo_from_bytea(oid, bytea), pg_catalog.lo_import(text), pg_catalog.lo_import(text, oid)
    FROM PUBLIC;

-- 4. -------------------------------------------------------------------------------------------
-- The roles that write the warehouse layers (groups) and the logins that write through them.
CREATE FUNCTION ops.writer_roles() RETURNS name[]
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$ SELECT ARRAY['etl_writer', 'dbt_writer', 'etl_user', 'dbt_runner']::name[] $$;
-- Every role's DDL fires the fence (below), which runs with that role's rights and reads only the
-- catalog: so everyone may call these two read-only functions (USAGE on ops opens nothing else:
-- its tables and functions have no PUBLIC grants).
GRANT USAGE ON SCHEMA ops TO PUBLIC;
GRANT EXECUTE ON FUNCTION ops.writer_roles() TO PUBLIC;

-- Every violation of the fence, one row each (empty = clean). Used by the event trigger and by the
-- foundation audit (include/sql/audit/writer_fence.sql), so both check exactly the same thing.
CREATE FUNCTION ops.writer_fence_violations()
    RETURNS TABLE (kind text, object text, detail text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    -- SECURITY DEFINER code owned by a writer role runs with its rights for whoever may call it.
    SELECT 'security_definer_owned_by_writer',
           p.oid::regprocedure::text,
           'owner ' || pg_get_userbyid(p.proowner)
    FROM pg_proc p
    WHERE p.prosecdef AND pg_get_userbyid(p.proowner) = ANY (ops.writer_roles())
    UNION ALL
    -- write privileges on a writer-owned relation held by anyone but its owner (PUBLIC included):
    -- whoever holds them keeps writing while the kill switch revokes the writers' members.
    SELECT 'write_granted_on_writer_object',
           c.oid::regclass::text,
           CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || ' has ' || a.privilege_type
    FROM pg_class c
    CROSS JOIN LATERAL aclexplode(c.relacl) a
    WHERE pg_get_userbyid(c.relowner) = ANY (ops.writer_roles())
      AND a.grantee <> c.relowner
      AND a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER', 'USAGE')
    UNION ALL
    -- raw and staging hold personal data: readable by dbt_writer only.
    SELECT 'pii_layer_granted',
           c.oid::regclass::text,
           CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || ' has ' || a.privilege_type
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    CROSS JOIN LATERAL aclexplode(c.relacl) a
    WHERE n.nspname IN ('raw', 'staging')
      AND a.grantee <> c.relowner
      AND (a.grantee = 0 OR pg_get_userbyid(a.grantee) <> 'dbt_writer')
    UNION ALL
    -- column privileges on raw/staging beyond dbt_writer
    SELECT 'pii_layer_granted',
           c.oid::regclass::text || '.' || quote_ident(att.attname),
           CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || ' has ' || a.privilege_type
    FROM pg_attribute att
    JOIN pg_class c ON c.oid = att.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    CROSS JOIN LATERAL aclexplode(att.attacl) a
    WHERE n.nspname IN ('raw', 'staging') AND att.attacl IS NOT NULL
      AND (a.grantee = 0 OR pg_get_userbyid(a.grantee) <> 'dbt_writer')
    UNION ALL
    -- default privileges of a writer role that would do any of the above for objects created later
    SELECT 'default_privilege_of_writer',
           pg_get_userbyid(d.defaclrole) || coalesce(' in schema ' || d.defaclnamespace::regnamespace::text, ''),
           CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || ' gets ' || a.privilege_type
               || ' on ' || CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'
                                                 WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types'
                                                 WHEN 'n' THEN 'schemas' ELSE d.defaclobjtype::text END
    FROM pg_default_acl d
    CROSS JOIN LATERAL aclexplode(d.defaclacl) a
    WHERE pg_get_userbyid(d.defaclrole) = ANY (ops.writer_roles())
      AND a.grantee <> d.defaclrole
      AND (a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER', 'USAGE', 'EXECUTE')
           OR (d.defaclnamespace::regnamespace::text IN ('raw', 'staging')
               AND (a.grantee = 0 OR pg_get_userbyid(a.grantee) <> 'dbt_writer')))
      AND NOT (d.defaclobjtype = 'T' AND a.grantee = 0)   -- types: USAGE for PUBLIC is harmless
    UNION ALL
    -- a writer role whose new functions would be executable by PUBLIC (the built-in default, back
    -- whenever its global default ACL for functions is reset)
    SELECT 'functions_public_by_default',
           r.rolname::text,
           'functions ' || r.rolname || ' creates get EXECUTE for PUBLIC'
    FROM pg_roles r
    WHERE r.rolname = ANY (ops.writer_roles())
      AND NOT EXISTS (SELECT 1 FROM pg_default_acl d
                      WHERE d.defaclrole = r.oid AND d.defaclnamespace = 0 AND d.defaclobjtype = 'f')
$$;
GRANT EXECUTE ON FUNCTION ops.writer_fence_violations() TO PUBLIC;

-- Runs with the rights of whoever ran the DDL (no SECURITY DEFINER): it only reads the catalog.
CREATE FUNCTION ops.enforce_writer_fence() RETURNS event_trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v record;
    found text := '';
BEGIN
    FOR v IN SELECT * FROM ops.writer_fence_violations() LOOP
        found := found || format(E'\n  %s: %s (%s)', v.kind, v.object, v.detail);
    END LOOP;
    IF found <> '' THEN
        RAISE EXCEPTION 'refused by the warehouse writer fence (issue 10, security posture §8.4): %', found
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'writer roles may not own SECURITY DEFINER code, grant write privileges, '
                         'or expose raw/staging; see README "Roles"';
    END IF;
END
$$;
REVOKE ALL ON FUNCTION ops.enforce_writer_fence() FROM PUBLIC;

CREATE EVENT TRIGGER writer_fence ON ddl_command_end
    WHEN TAG IN ('CREATE FUNCTION', 'ALTER FUNCTION', 'CREATE PROCEDURE', 'ALTER PROCEDURE',
                 'GRANT', 'ALTER DEFAULT PRIVILEGES', 'CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO',
                 'CREATE VIEW', 'CREATE MATERIALIZED VIEW', 'CREATE SEQUENCE', 'ALTER TABLE',
                 'ALTER VIEW', 'ALTER SEQUENCE', 'ALTER MATERIALIZED VIEW', 'CREATE FOREIGN TABLE')
    EXECUTE FUNCTION ops.enforce_writer_fence();
