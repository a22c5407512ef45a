-- Grants on a live schema and on its tables, to be mirrored onto the shadow schema before the
-- swap (the default privileges of the live schema are bound to its OID, not its name).
-- Parameters: %(schema)s text
SELECT 'schema' AS scope, a.grantee::regrole::text AS grantee, a.privilege_type
FROM pg_catalog.pg_namespace AS n, pg_catalog.aclexplode(n.nspacl) AS a
WHERE n.nspname = %(schema)s AND a.grantee <> 0 AND a.grantee <> n.nspowner
UNION
SELECT 'tables', a.grantee::regrole::text, a.privilege_type
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace,
     pg_catalog.aclexplode(c.relacl) AS a
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p', 'v', 'm') AND a.grantee <> 0 AND a.grantee <> c.relowner
UNION
SELECT 'default', a.grantee::regrole::text, a.privilege_type
FROM pg_catalog.pg_default_acl AS d
JOIN pg_catalog.pg_namespace AS n ON n.oid = d.defaclnamespace,
     pg_catalog.aclexplode(d.defaclacl) AS a
WHERE n.nspname = %(schema)s AND d.defaclobjtype = 'r' AND a.grantee <> 0
ORDER BY 1, 2, 3
