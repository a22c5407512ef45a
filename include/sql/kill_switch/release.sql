-- Kill switch RELEASE, database part (runs as warehouse_admin inside the transaction that holds
-- the ops.kill_switch row lock): the write paths back, through the one fixed function that may
-- grant them (warehouse_admin has no CREATEROLE). Granting an existing membership is a notice,
-- not an error, so releasing twice is harmless.
SELECT ops.kill_switch_grant_writes()
