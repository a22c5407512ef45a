-- Kill switch RELEASE, database part (runs as warehouse_admin inside the transaction that holds
-- the ops.kill_switch row lock): the write paths back, through write_path_admin's SECURITY
-- DEFINER function (see engage.sql). Granting an existing membership is a notice, not an error,
-- so releasing twice is harmless.
SELECT ops.kill_switch_restore_write_paths();
