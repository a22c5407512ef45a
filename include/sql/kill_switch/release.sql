-- Kill switch RELEASE, database part (runs as warehouse_admin inside the transaction that holds
-- the ops.kill_switch row lock): the write paths back. Granting an existing membership is a
-- notice, not an error, so releasing twice is harmless.
GRANT etl_writer TO etl_user;
GRANT dbt_writer TO dbt_runner;
