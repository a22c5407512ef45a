-- dbt run and test results in the warehouse (runbook §10.2), written by dbt's on-run-end hook
-- (include/dbt/macros/artifacts.sql) after every invocation, whoever runs it (Cosmos task,
-- nightly test DAG, developer). run_id orders runs: '<UTC start yyyymmddThhmmss>_<Airflow run id
-- or dbt invocation id>', so max(run_id) is the latest run. Messages are redacted of anything
-- that looks like an email, phone or ID number before they are stored.

-- dbt's incremental models stage their new rows in session temporary tables.
GRANT TEMPORARY ON DATABASE data_warehouse TO dbt_writer;

SET LOCAL ROLE dbt_writer;

CREATE FUNCTION dbt_artifacts.redact_pii(message text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT regexp_replace(
             regexp_replace(
               regexp_replace(message, '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}', '<email>', 'g'),
               '(\+27|0027|\m0)[ -]?[0-9]{2}[ -]?[0-9]{3}[ -]?[0-9]{4}', '<phone>', 'g'),
             '\m[0-9]{13}\M', '<id_number>', 'g')
$$;

CREATE TABLE dbt_artifacts.invocations (
    invocation_id uuid        PRIMARY KEY,
    run_id        text        NOT NULL,
    command       text        NOT NULL,
    target_name   text,
    dbt_version   text,
    nodes         integer     NOT NULL DEFAULT 0,
    errors        integer     NOT NULL DEFAULT 0,
    failures      integer     NOT NULL DEFAULT 0,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invocations_run_id ON dbt_artifacts.invocations (run_id);

CREATE TABLE dbt_artifacts.model_results (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id           text        NOT NULL,
    invocation_id    uuid        NOT NULL,
    unique_id        text        NOT NULL,
    model_name       text        NOT NULL,
    schema_name      text,
    materialization  text,
    status           text        NOT NULL,   -- success | error | skipped
    rows_affected    bigint,
    execution_time_s double precision,
    message          text,
    completed_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX model_results_run_id ON dbt_artifacts.model_results (run_id);
CREATE INDEX model_results_model ON dbt_artifacts.model_results (model_name, completed_at DESC);

CREATE TABLE dbt_artifacts.test_results (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id           text        NOT NULL,
    invocation_id    uuid        NOT NULL,
    unique_id        text        NOT NULL,
    test_name        text        NOT NULL,
    test_type        text        NOT NULL,   -- generic test name (not_null, no_pii_values, ...) or 'singular'
    model_name       text,                   -- the model the test is attached to
    column_name      text,
    status           text        NOT NULL,   -- pass | fail | warn | error | skipped
    num_failing_rows bigint      NOT NULL DEFAULT 0,
    severity         text,
    execution_time_s double precision,
    message          text,
    completed_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX test_results_run_id ON dbt_artifacts.test_results (run_id);
CREATE INDEX test_results_model ON dbt_artifacts.test_results (model_name, completed_at DESC);

RESET ROLE;

-- On-call and monitoring read the results (never write them).
GRANT USAGE ON SCHEMA dbt_artifacts TO warehouse_admin;
GRANT SELECT ON ALL TABLES IN SCHEMA dbt_artifacts TO warehouse_admin;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pipeline_monitor') THEN
        GRANT USAGE ON SCHEMA dbt_artifacts TO pipeline_monitor;
        GRANT SELECT ON ALL TABLES IN SCHEMA dbt_artifacts TO pipeline_monitor;
    END IF;
END $$;
