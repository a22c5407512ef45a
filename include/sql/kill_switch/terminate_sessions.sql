-- End every open session of the writing login roles (after the revoke has committed, so a
-- reconnecting session can no longer SET ROLE to a writer). A terminated backend rolls back its
-- open transaction: a half-done batch leaves nothing behind. Waits up to timeout_ms per backend
-- for it to be gone. warehouse_admin may do this as a member of pg_signal_backend.
SELECT pid,
       usename::text,
       application_name,
       client_addr::text,
       backend_start,
       state,
       pg_terminate_backend(pid, %(timeout_ms)s::bigint) AS terminated
FROM pg_stat_activity
WHERE usename = ANY (%(roles)s::text[])
  AND pid <> pg_backend_pid()
ORDER BY pid
