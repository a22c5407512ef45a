-- compliance (.118): subjects under an active legal hold (keyed refs only).
SELECT DISTINCT subject_ref FROM compliance.legal_hold_active
