-- The oldest pending alerts, locked for this drainer; concurrent drainers skip them.
SELECT id, payload
FROM ops.alert_outbox
WHERE sent_at IS NULL AND gave_up_at IS NULL
ORDER BY created_at, id
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED
