-- data_warehouse on .106: the layers of DESIGN §3 and the least-privilege grants of §6.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

REVOKE ALL ON DATABASE data_warehouse FROM PUBLIC;
GRANT CONNECT ON DATABASE data_warehouse TO etl_user, dbt_runner, analytics_user, warehouse_admin;
REVOKE ALL ON SCHEMA public FROM PUBLIC;

-- Memberships: the write paths. The kill switch revokes exactly these two grants.
GRANT etl_writer TO etl_user;
GRANT dbt_writer TO dbt_runner;

-- raw: written by the extract (etl_writer owns the tables it creates), read by dbt.
CREATE SCHEMA raw AUTHORIZATION etl_writer;
GRANT USAGE ON SCHEMA raw TO dbt_writer;
ALTER DEFAULT PRIVILEGES FOR ROLE etl_writer IN SCHEMA raw GRANT SELECT ON TABLES TO dbt_writer;

-- dbt's layers.
CREATE SCHEMA staging AUTHORIZATION dbt_writer;
CREATE SCHEMA intermediate AUTHORIZATION dbt_writer;
CREATE SCHEMA marts AUTHORIZATION dbt_writer;
CREATE SCHEMA analytics AUTHORIZATION dbt_writer;
CREATE SCHEMA ml AUTHORIZATION dbt_writer;            -- reserved (runbook Phase 7)
CREATE SCHEMA dbt_artifacts AUTHORIZATION dbt_writer;

-- analytics_user reads marts and analytics only.
GRANT USAGE ON SCHEMA marts, analytics TO analytics_user;
ALTER DEFAULT PRIVILEGES FOR ROLE dbt_writer IN SCHEMA marts, analytics
    GRANT SELECT ON TABLES TO analytics_user;

-- etl: the extract's bookkeeping (watermarks and the batch log, runbook §10.1).
CREATE SCHEMA etl;
GRANT USAGE ON SCHEMA etl TO etl_writer;

CREATE TABLE etl.extract_watermark (
    source_db       text        NOT NULL,
    table_name      text        NOT NULL,
    cursor_value    timestamptz,             -- upper bound of the last committed window
    last_batch_id   uuid        NOT NULL,
    last_success_at timestamptz NOT NULL,
    PRIMARY KEY (source_db, table_name)
);

CREATE TABLE etl.extract_batch (
    batch_id        uuid        PRIMARY KEY,
    source_db       text        NOT NULL,
    table_name      text        NOT NULL,
    mode            text        NOT NULL CHECK (mode IN ('incremental', 'snapshot')),
    window_start    timestamptz,
    window_end      timestamptz,
    rows_read       bigint      NOT NULL DEFAULT 0,
    rows_inserted   bigint      NOT NULL DEFAULT 0,
    rows_updated    bigint      NOT NULL DEFAULT 0,
    rows_deleted    bigint      NOT NULL DEFAULT 0,
    duration_ms     bigint,
    replica_lag_s   double precision,
    status          text        NOT NULL CHECK (status IN ('success', 'failed')),
    error           text,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX extract_batch_table_finished ON etl.extract_batch (source_db, table_name, finished_at DESC);

GRANT SELECT, INSERT, UPDATE ON etl.extract_watermark, etl.extract_batch TO etl_writer;
-- dbt reads the batch log (lineage) but cannot change it.
GRANT USAGE ON SCHEMA etl TO dbt_writer;
GRANT SELECT ON etl.extract_batch, etl.extract_watermark TO dbt_writer;
