SELECT journal_id, request_id, run_id, layer, target, action, rows_affected, done_at
FROM rtbf.erasure_journal WHERE shipped_at IS NULL ORDER BY done_at, journal_id
