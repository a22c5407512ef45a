-- Kill switch ENGAGE, database part (runs as warehouse_admin inside the transaction that holds
-- the ops.kill_switch row lock). Revoking the memberships removes every write path into the
-- warehouse: etl_user and dbt_runner are NOINHERIT and write only after SET ROLE. Revoking a
-- membership that is already gone is a warning, not an error, so engaging twice is harmless.
-- Sessions already running as the writer roles are ended by terminate_sessions.sql AFTER commit.
REVOKE etl_writer FROM etl_user;
REVOKE dbt_writer FROM dbt_runner;
