-- analytics_db on .104 (issue 10): functions get no EXECUTE for PUBLIC by default (the migrating
-- superuser and pushback_writer, which owns the app schemas), and no role but a superuser can
-- create large objects (a write path outside every table grant).
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE pushback_writer REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pg_catalog.lo_creat(integer), pg_catalog.lo_create(oid),
    pg_catalog.lo_from_bytea(oid, bytea), pg_catalog.lo_import(text), pg_catalog.lo_import(text, oid)
    FROM PUBLIC;
