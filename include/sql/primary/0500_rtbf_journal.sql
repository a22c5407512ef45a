-- analytics_db (.104): the right-to-be-forgotten erasure journal for the push-back summaries.
-- The cascade deletes a user's rows from analytics_db.{app}.* as pushback_writer and writes the
-- journal row in the same transaction (a crash can never leave a deletion unrecorded); the
-- cascade then ships it to compliance.rtbf_evidence on .118 (idempotent by journal_id).
-- Same shape as the warehouse's rtbf.erasure_journal (include/sql/warehouse/0900_rtbf.sql).
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE SCHEMA rtbf;
CREATE TABLE rtbf.erasure_journal (
    journal_id    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    request_id    text        NOT NULL,
    run_id        text        NOT NULL,
    layer         text        NOT NULL,
    target        text        NOT NULL,
    action        text        NOT NULL,
    rows_affected bigint      NOT NULL CHECK (rows_affected >= 0),
    done_at       timestamptz NOT NULL DEFAULT now(),
    shipped_at    timestamptz
);
CREATE INDEX erasure_journal_unshipped ON rtbf.erasure_journal (request_id) WHERE shipped_at IS NULL;
REVOKE ALL ON SCHEMA rtbf FROM PUBLIC;
GRANT USAGE ON SCHEMA rtbf TO pushback_writer;
GRANT SELECT, INSERT, UPDATE (shipped_at) ON rtbf.erasure_journal TO pushback_writer;
-- the zero-residual scan reads every table of analytics_db as pushback_writer
GRANT USAGE ON SCHEMA public TO pushback_writer;
GRANT SELECT ON public.schema_migrations TO pushback_writer;
