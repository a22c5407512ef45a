INSERT INTO compliance.governance_log (action, host, target, rows_affected, cutoff, run_id, details)
VALUES ('retention_delete', %(host)s, %(target)s, %(rows_affected)s, %(cutoff)s, %(run_id)s, %(details)s)
