-- Record who changed the kill switch, when and why (same transaction as the grants/revokes).
UPDATE ops.kill_switch
SET engaged    = %(engaged)s,
    changed_at = now(),
    changed_by = %(actor)s,
    reason     = %(reason)s
RETURNING engaged, changed_at, changed_by, reason
