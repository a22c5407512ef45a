-- compliance (.118): register a request (idempotent on request_id). The user id is kept only
-- sealed; the request is keyed by the tombstone ref of the user.
INSERT INTO compliance.rtbf_request (request_id, subject_ref, subject_sealed, source, requested_at, requested_by, last_run_id)
VALUES (%(request_id)s, compliance.rtbf_ref('user', %(user_id)s),
        compliance.rtbf_seal(pg_catalog.json_build_object('user_id', %(user_id)s::text)::text),
        %(source)s, %(requested_at)s, %(requested_by)s, %(run_id)s)
ON CONFLICT (request_id) DO NOTHING
RETURNING request_id
