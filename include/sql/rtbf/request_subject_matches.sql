-- compliance (.118): does an existing request belong to this user (a request id is never reused)?
SELECT r.subject_ref = compliance.rtbf_ref('user', %(user_id)s) AS same_subject, r.status
FROM compliance.rtbf_request AS r
WHERE r.request_id = %(request_id)s
