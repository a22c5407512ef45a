-- Kill switch ENGAGE, database part (runs as warehouse_admin inside the transaction that holds
-- the ops.kill_switch row lock). Revoking the memberships removes every write path into the
-- warehouse: etl_user and dbt_runner are NOINHERIT and write only after SET ROLE. warehouse_admin
-- cannot grant or revoke roles itself (no CREATEROLE): it calls the one fixed function that does
-- exactly this (include/sql/warehouse/0600_least_privilege_fences.sql). Revoking a membership that
-- is already gone is a warning, not an error, so engaging twice is harmless.
-- Sessions already running as the writer roles are ended by terminate_sessions.sql AFTER commit.
SELECT ops.kill_switch_revoke_writes()
