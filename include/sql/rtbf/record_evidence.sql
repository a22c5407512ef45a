-- compliance (.118): one evidence row, idempotent by journal_id (shipping can be repeated).
INSERT INTO compliance.rtbf_evidence (journal_id, request_id, run_id, host, layer, target, action, rows_affected, done_at)
VALUES (%(journal_id)s, %(request_id)s, %(run_id)s, %(host)s, %(layer)s, %(target)s, %(action)s, %(rows_affected)s, %(done_at)s)
ON CONFLICT (journal_id) DO NOTHING
