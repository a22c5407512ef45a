INSERT INTO compliance.legal_hold (subject_ref, case_ref, placed_by, reason, hold_until)
VALUES (compliance.rtbf_ref('user', %(user_id)s), %(case_ref)s, %(placed_by)s, %(reason)s, %(hold_until)s)
RETURNING hold_id
