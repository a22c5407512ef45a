-- compliance (.118): every request not closed yet, oldest first (the sweep resumes them).
SELECT request_id FROM compliance.rtbf_request WHERE status <> 'closed' ORDER BY requested_at, request_id
