-- Issue 12: late-committing transactions and daily reconciliation.
--
-- etl.extract_open_xact: ranges of primary transaction ids that may still be running, as the hot
-- standby (.105) saw them when a table was extracted: its snapshot [xmin, xmax) (on a standby
-- pg_current_snapshot() lists no xip; xmin is the oldest transaction still running on the primary).
-- While a range may hold a running transaction (xid_to > the standby's current xmin) the table's
-- watermark does not pass hold_cursor, so rows of a long transaction are read by the first extract
-- after it commits, whatever their cursor value. Past the table's late_commit_limit_minutes the
-- range holds nothing any more and ExtractLateTransaction (P2) is raised; reconciliation repairs.
CREATE TABLE etl.extract_open_xact (
    source_db     text        NOT NULL,
    table_name    text        NOT NULL,
    xid_from      bigint      NOT NULL,  -- the standby's snapshot xmin (xid8, epoch-extended)
    xid_to        bigint      NOT NULL,  -- its xmax: every xid below was assigned before first_seen_at
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    hold_cursor   timestamptz NOT NULL,
    PRIMARY KEY (source_db, table_name, xid_to)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON etl.extract_open_xact TO etl_writer;
GRANT SELECT ON etl.extract_open_xact TO pipeline_monitor;

-- etl.reconcile_result: one row per table and differing bucket (key range, day or hash bucket)
-- per reconcile run, plus one 'match' row per table whose buckets all agreed.
CREATE TABLE etl.reconcile_result (
    run_id        uuid        NOT NULL,
    checked_at    timestamptz NOT NULL DEFAULT now(),
    source_db     text        NOT NULL,
    table_name    text        NOT NULL,
    bucket        text        NOT NULL,  -- '*' for a table-level summary row
    replica_rows  bigint,
    raw_rows      bigint,
    status        text        NOT NULL CHECK (status IN ('match', 'repaired', 'persisting', 'failed')),
    rows_repaired bigint      NOT NULL DEFAULT 0,
    detail        text,
    PRIMARY KEY (run_id, source_db, table_name, bucket)
);
CREATE INDEX reconcile_result_table_checked ON etl.reconcile_result (source_db, table_name, checked_at DESC);
GRANT SELECT, INSERT ON etl.reconcile_result TO etl_writer;
-- the monitor sees the figures, not `detail` (an error text can quote a source value)
GRANT SELECT (run_id, checked_at, source_db, table_name, bucket, replica_rows, raw_rows, status, rows_repaired)
    ON etl.reconcile_result TO pipeline_monitor;
