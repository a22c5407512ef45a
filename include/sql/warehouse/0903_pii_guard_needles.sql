-- warehouse (.106): the PII guard's sample of registry PII values ("needles"), built once per dbt
-- invocation instead of once per guarded node (issue 11: 90 of the ~280 nodes of a build each
-- sampled every raw table again; that was 66 of the 111 s of SQL time of one `dbt build`).
--
-- pii_guard holds, while a dbt invocation runs, one UNLOGGED table `needles_<start>_<invocation>`
-- of values sampled from raw (include/dbt/macros/pii/pii_sample.sql): personal data, so it is a PII
-- layer like raw and staging. Only dbt_writer (which reads raw anyway) may use it: no grant to
-- anyone else, and the writer fence below refuses any grant on it beyond ops.pii_layer_readers().
-- The invocation drops its table at on-run-end; a killed invocation's table is dropped by the next
-- one to start (after 6 hours: no build runs that long, and a build that did would fail safe).
CREATE SCHEMA pii_guard;
REVOKE ALL ON SCHEMA pii_guard FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA pii_guard TO dbt_writer;
-- The right-to-be-forgotten scan reads every schema (0901): a sample is scanned like any table (its
-- tables get SELECT for rtbf_scanner from dbt_writer's default privileges). The scan first waits
-- for the invocations that sampled raw before it to end (dataacuity.rtbf.wait_for_earlier_pii_samples).
GRANT USAGE ON SCHEMA pii_guard TO rtbf_scanner;
COMMENT ON SCHEMA pii_guard IS
    'PII guard sample of one running dbt invocation (personal data, dropped at its end): dbt_writer only';

-- The schemas that hold personal data in the clear (the fence's "PII layers").
CREATE FUNCTION ops.pii_layer_schemas() RETURNS name[]
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$ SELECT ARRAY['raw', 'staging', 'pii_guard']::name[] $$;
GRANT EXECUTE ON FUNCTION ops.pii_layer_schemas() TO PUBLIC;

-- 0600's fence with pii_guard among the PII layers (the rest unchanged).
CREATE OR REPLACE FUNCTION ops.writer_fence_violations()
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
    -- raw, staging and pii_guard hold personal data: readable by ops.pii_layer_readers() only.
    SELECT 'pii_layer_granted',
           c.oid::regclass::text,
           CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || ' has ' || a.privilege_type
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    CROSS JOIN LATERAL aclexplode(c.relacl) a
    WHERE n.nspname = ANY (ops.pii_layer_schemas())
      AND a.grantee <> c.relowner
      AND (a.grantee = 0 OR pg_get_userbyid(a.grantee) <> ALL (ops.pii_layer_readers()))
    UNION ALL
    -- column privileges on those schemas beyond those readers
    SELECT 'pii_layer_granted',
           c.oid::regclass::text || '.' || quote_ident(att.attname),
           CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || ' has ' || a.privilege_type
    FROM pg_attribute att
    JOIN pg_class c ON c.oid = att.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    CROSS JOIN LATERAL aclexplode(att.attacl) a
    WHERE n.nspname = ANY (ops.pii_layer_schemas()) AND att.attacl IS NOT NULL
      AND (a.grantee = 0 OR pg_get_userbyid(a.grantee) <> ALL (ops.pii_layer_readers()))
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
           OR (d.defaclnamespace::regnamespace::text = ANY (ops.pii_layer_schemas())
               AND (a.grantee = 0 OR pg_get_userbyid(a.grantee) <> ALL (ops.pii_layer_readers()))))
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
    UNION ALL
    -- a PII reader other than dbt_writer is a NOLOGIN owner of audited code: nobody may log in as
    -- it or become it (a member would read raw directly)
    SELECT 'pii_reader_reachable',
           r.rolname::text,
           CASE WHEN r.rolcanlogin THEN 'can log in' ELSE 'member ' || pg_get_userbyid(m.member) END
    FROM pg_roles r
    LEFT JOIN pg_auth_members m ON m.roleid = r.oid
    WHERE r.rolname = ANY (ops.pii_layer_readers()) AND r.rolname <> 'dbt_writer'
      AND (r.rolcanlogin OR m.member IS NOT NULL)
$$;
