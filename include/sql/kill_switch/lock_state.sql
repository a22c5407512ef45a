-- The kill switch state row, locked for the rest of the transaction: engage and release
-- serialise on it, so two of them can never interleave. Also the live memberships (the truth).
SELECT engaged,
       changed_at,
       changed_by,
       reason,
       pg_has_role('etl_user', 'etl_writer', 'MEMBER')   AS etl_writer_member,
       pg_has_role('dbt_runner', 'dbt_writer', 'MEMBER') AS dbt_writer_member
FROM ops.kill_switch
FOR UPDATE
