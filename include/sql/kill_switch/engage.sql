-- Kill switch ENGAGE, database part (runs as warehouse_admin inside the transaction that holds
-- the ops.kill_switch row lock). Revoking the memberships etl_writer -> etl_user and
-- dbt_writer -> dbt_runner removes every write path into the warehouse (both login roles are
-- NOINHERIT and write only after SET ROLE). warehouse_admin has no CREATEROLE (it could grant
-- itself any role with it); the revokes run in a SECURITY DEFINER function of write_path_admin
-- (include/sql/warehouse/0300_*). Revoking a membership that is already gone is a warning, so
-- engaging twice is harmless. Sessions already running as the writer roles are ended by
-- terminate_sessions.sql AFTER commit.
SELECT ops.kill_switch_revoke_write_paths();
