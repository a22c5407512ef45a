-- One privilege check (security posture §8.4). Parameters: role, on, object, privilege.
SELECT CASE %(on)s
           WHEN 'schema' THEN has_schema_privilege(%(role)s, %(object)s, %(privilege)s)
           WHEN 'table'  THEN has_table_privilege(%(role)s, %(object)s, %(privilege)s)
           WHEN 'role'   THEN pg_has_role(%(role)s, %(object)s, %(privilege)s)
       END
