-- Non-superuser roles that are (directly or through other roles) members of a dangerous predefined
-- role (issue 10). Parameters: roles (text[]). Returns (member, predefined role).
SELECT r.rolname::text AS member, g.rolname::text AS predefined
FROM pg_roles g
CROSS JOIN pg_roles r
WHERE g.rolname = ANY (%(roles)s::text[])
  AND r.rolname <> g.rolname
  AND NOT r.rolsuper
  AND pg_has_role(r.oid, g.oid, 'MEMBER')
ORDER BY 1, 2
