-- SECURITY DEFINER functions that PUBLIC may execute (a function's owner rights, for anyone).
SELECT p.oid::regprocedure::text AS function, pg_get_userbyid(p.proowner)::text AS owner
FROM pg_proc p
CROSS JOIN LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
WHERE p.prosecdef AND a.grantee = 0 AND a.privilege_type = 'EXECUTE'
ORDER BY 1
