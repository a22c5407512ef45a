-- compliance (.118): a closed request triggered again is re-verified: re-seal the subject for the run.
UPDATE compliance.rtbf_request
   SET status = 'open', subject_sealed = compliance.rtbf_seal(pg_catalog.json_build_object('user_id', %(user_id)s::text)::text),
       last_run_id = %(run_id)s
 WHERE request_id = %(request_id)s AND status = 'closed'
