-- compliance (.118): one request and its sealed subject (NULL once closed).
SELECT r.request_id, r.subject_ref, r.status, r.requested_at, r.requested_by, r.cascaded_at, r.closed_at,
       compliance.rtbf_unseal(r.subject_sealed) AS subject
FROM compliance.rtbf_request AS r
WHERE r.request_id = %(request_id)s
FOR UPDATE OF r
