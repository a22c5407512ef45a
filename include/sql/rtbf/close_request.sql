-- compliance (.118): the closing record (runbook §11.4 compliance.deletion_completion), the
-- confirmation for the app team, and the sealed subject wiped, in one transaction.
WITH evidence AS (
    SELECT pg_catalog.jsonb_build_object(
               'layers', coalesce(pg_catalog.jsonb_object_agg(l.layer, l.summary), '{}'::jsonb),
               'rows_removed', coalesce(sum(l.rows_removed), 0),
               'tables', coalesce(sum(l.tables), 0)) AS summary
    FROM (
        SELECT e.layer,
               pg_catalog.jsonb_build_object('tables', count(DISTINCT e.target), 'rows', sum(e.rows_affected)) AS summary,
               sum(e.rows_affected) AS rows_removed,
               count(DISTINCT e.target) AS tables
        FROM compliance.rtbf_evidence AS e
        WHERE e.request_id = %(request_id)s AND e.action IN ('deleted', 'redacted')
        GROUP BY e.layer
    ) AS l
),
completion AS (
    INSERT INTO compliance.deletion_completion (request_id, user_ref, requested_at, evidence)
    SELECT r.request_id, r.subject_ref, r.requested_at, e.summary
    FROM compliance.rtbf_request AS r CROSS JOIN evidence AS e
    WHERE r.request_id = %(request_id)s
    ON CONFLICT (request_id) DO NOTHING
    RETURNING completed_at
),
outbox AS (
    INSERT INTO compliance.rtbf_confirmation_outbox (request_id, requested_at, completed_at, summary)
    SELECT r.request_id, r.requested_at, now(), e.summary
    FROM compliance.rtbf_request AS r CROSS JOIN evidence AS e
    WHERE r.request_id = %(request_id)s
    ON CONFLICT (request_id) DO NOTHING
    RETURNING request_id
)
UPDATE compliance.rtbf_request AS r
   SET status = 'closed', closed_at = coalesce(r.closed_at, now()), subject_sealed = NULL, last_run_id = %(run_id)s
  FROM evidence AS e
 WHERE r.request_id = %(request_id)s
RETURNING e.summary
