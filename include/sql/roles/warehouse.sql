-- Cluster-wide roles of the warehouse (.106), DESIGN §6 / security posture §8.4.
-- Idempotent: applied on every `make up`. Role MEMBERSHIPS live in a migration (applied once),
-- so re-running this file never releases an engaged kill switch.
--
-- Writes go through NOLOGIN group roles; the login roles are NOINHERIT and must `SET ROLE`,
-- so revoking the membership (the kill switch) removes every write path at once.
DO $$
BEGIN
    CREATE ROLE etl_writer NOLOGIN;        -- owns raw.*, writes etl.* bookkeeping
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
DO $$
BEGIN
    CREATE ROLE dbt_writer NOLOGIN;        -- owns staging/intermediate/marts/analytics/ml/dbt_artifacts
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
DO $$
BEGIN
    CREATE ROLE etl_user LOGIN NOINHERIT;  -- Airflow extract tasks (warehouse_106)
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
DO $$
BEGIN
    CREATE ROLE dbt_runner LOGIN NOINHERIT;  -- dbt (warehouse_dbt), profile sets role dbt_writer
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
DO $$
BEGIN
    CREATE ROLE analytics_user LOGIN;      -- BI readers: marts and analytics only
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
DO $$
BEGIN
    CREATE ROLE warehouse_admin LOGIN CREATEROLE;  -- audit and kill switch (warehouse_admin)
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
GRANT pg_signal_backend TO warehouse_admin;
DO $$
BEGIN
    -- freshness monitor and alert senders (warehouse_monitor): reads raw and the extract
    -- bookkeeping, writes only the alert outbox. Not touched by the kill switch, so alerts
    -- still flow while writes are stopped.
    CREATE ROLE pipeline_monitor LOGIN;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
DO $$
BEGIN
    -- push_back__{app} DAGs (warehouse_pushback): may only EXECUTE pushback.refresh_summary() and
    -- read the dbt results its PII gate checks (include/sql/warehouse/0400_pushback.sql).
    CREATE ROLE pushback_agent LOGIN NOINHERIT;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
