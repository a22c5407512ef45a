-- analytics_db on .104: the per-app summaries the apps read (runbook 3.1-3.3).
-- Per-app schemas and reader roles come from templates/analytics_app_schema.sql, one per app.
REVOKE ALL ON DATABASE analytics_db FROM PUBLIC;
GRANT CONNECT ON DATABASE analytics_db TO pushback_writer;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
