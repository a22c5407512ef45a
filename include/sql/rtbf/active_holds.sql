-- compliance (.118): active legal holds of a subject (no identifiers).
SELECT h.hold_id, h.case_ref, h.placed_by, h.reason, h.placed_at, h.hold_until
FROM compliance.legal_hold_active AS h
WHERE h.subject_ref = %(subject_ref)s
ORDER BY h.hold_id
