-- compliance (.118): a tombstone never names the user: the keyed ref of the value only.
INSERT INTO compliance.rtbf_tombstone (tombstone_ref, kind, request_id)
VALUES (compliance.rtbf_ref(%(kind)s, %(value)s), %(kind)s, %(request_id)s)
ON CONFLICT (tombstone_ref) DO NOTHING
