UPDATE compliance.legal_hold
   SET lifted_at = now(), lifted_by = %(lifted_by)s, lift_reason = %(reason)s
 WHERE subject_ref = compliance.rtbf_ref('user', %(user_id)s) AND lifted_at IS NULL
RETURNING hold_id
