-- warehouse / analytics_db: written in the same transaction as the delete it records.
INSERT INTO rtbf.erasure_journal (request_id, run_id, layer, target, action, rows_affected)
VALUES (%(request_id)s, %(run_id)s, %(layer)s, %(target)s, %(action)s, %(rows_affected)s)
