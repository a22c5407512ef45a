-- analytics_db.<app>: written only by pushback_writer, read only by <app>_app_reader.
-- Placeholders are identifiers, quoted by tools/migrations.apply_template. Idempotent.
CREATE SCHEMA IF NOT EXISTS {app_schema} AUTHORIZATION pushback_writer;
DO $$
BEGIN
    CREATE ROLE {app_reader} LOGIN;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
REVOKE ALL ON SCHEMA {app_schema} FROM PUBLIC;
GRANT CONNECT ON DATABASE analytics_db TO {app_reader};
GRANT USAGE ON SCHEMA {app_schema} TO {app_reader};
GRANT SELECT ON ALL TABLES IN SCHEMA {app_schema} TO {app_reader};
ALTER DEFAULT PRIVILEGES FOR ROLE pushback_writer IN SCHEMA {app_schema}
    GRANT SELECT ON TABLES TO {app_reader};
