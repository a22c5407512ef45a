-- compliance on .118 (issue 10): functions get no EXECUTE for PUBLIC by default (the migrating
-- superuser and compliance_admin, which owns the compliance schema), and no role but a superuser
-- can create large objects.
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE compliance_admin REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pg_catalog.lo_creat(integer), pg_catalog.lo_create(oid),
    pg_catalog.lo_from_bytea(oid, bytea), pg_catalog.lo_import(text), pg_catalog.lo_import(text, oid)
    FROM PUBLIC;
