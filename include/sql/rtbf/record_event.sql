INSERT INTO compliance.rtbf_event (request_id, event, run_id, detail)
VALUES (%(request_id)s, %(event)s, %(run_id)s, %(detail)s)
