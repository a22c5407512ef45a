-- Where the source server stands: is it a hot standby, how far has it replayed, and its clock.
SELECT pg_is_in_recovery()               AS in_recovery,
       pg_last_xact_replay_timestamp()   AS replayed_until,
       now()                             AS server_now,
       extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS replica_lag_s
