-- Kill switch status: the recorded state and the live truth in the catalog (readable by
-- etl_user, dbt_runner, pipeline_monitor and warehouse_admin). writer_sessions counts the open
-- sessions of the writing login roles (usename is visible to every role in pg_stat_activity).
SELECT k.engaged,
       k.changed_at,
       k.changed_by,
       k.reason,
       pg_has_role('etl_user', 'etl_writer', 'MEMBER')   AS etl_writer_member,
       pg_has_role('dbt_runner', 'dbt_writer', 'MEMBER') AS dbt_writer_member,
       (SELECT count(*) FROM pg_stat_activity a
        WHERE a.usename IN ('etl_user', 'dbt_runner') AND a.pid <> pg_backend_pid()) AS writer_sessions,
       session_user::text AS session_role
FROM ops.kill_switch k
