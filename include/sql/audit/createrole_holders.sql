-- Non-superuser roles that can create roles or grant any membership (PostgreSQL 15 CREATEROLE).
SELECT rolname::text FROM pg_roles WHERE rolcreaterole AND NOT rolsuper ORDER BY 1
