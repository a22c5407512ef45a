UPDATE compliance.rtbf_request
   SET status = %(status)s, last_run_id = %(run_id)s,
       cascaded_at = CASE WHEN %(status)s = 'cascaded' THEN coalesce(cascaded_at, now()) ELSE cascaded_at END
 WHERE request_id = %(request_id)s
