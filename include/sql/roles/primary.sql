-- Cluster-wide roles of the app primary (.104). Replicated to the standby (.105) with the rest.
-- Idempotent: applied on every `make up`. Passwords are set by the deploy tooling, never here.
DO $$
BEGIN
    -- streaming replication (pg_basebackup, walreceiver)
    CREATE ROLE replicator LOGIN REPLICATION;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
DO $$
BEGIN
    -- the ETL's reader: connects to the replica only, reads every table, writes nothing
    CREATE ROLE etl_reader LOGIN;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
DO $$
BEGIN
    -- stands in for the apps themselves (synthetic data and live traffic only)
    CREATE ROLE app_writer LOGIN;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
DO $$
BEGIN
    -- the warehouse's postgres_fdw user mapping writes the per-app summaries as this role
    CREATE ROLE pushback_writer LOGIN;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
GRANT pg_read_all_data TO etl_reader;
GRANT pg_read_all_data, pg_write_all_data TO app_writer;
