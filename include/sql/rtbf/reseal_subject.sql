-- compliance (.118): keep the subject's identifiers (sealed) before anything is deleted, so a rerun
-- after a crash still finds the rows that name them.
UPDATE compliance.rtbf_request SET subject_sealed = compliance.rtbf_seal(%(subject)s)
WHERE request_id = %(request_id)s
