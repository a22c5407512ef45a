-- One privilege check (security posture §8.4). Parameters: role, object_type, object, privilege.
-- Tables are looked up in pg_class (readable by all), so the asking role needs no access to them.
SELECT CASE %(object_type)s
           WHEN 'schema' THEN has_schema_privilege(%(role)s, %(object)s, %(privilege)s)
           WHEN 'table'  THEN has_table_privilege(
                                  %(role)s,
                                  (SELECT c.oid
                                   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                   WHERE n.nspname = split_part(%(object)s, '.', 1)
                                     AND c.relname = split_part(%(object)s, '.', 2)),
                                  %(privilege)s)
           WHEN 'role'   THEN pg_has_role(%(role)s, %(object)s, %(privilege)s)
       END
