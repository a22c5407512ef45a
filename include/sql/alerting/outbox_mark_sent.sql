-- Alertmanager accepted the row: it is never sent again.
UPDATE ops.alert_outbox
SET attempts = attempts + 1, last_error = NULL, last_attempt_at = clock_timestamp(), sent_at = clock_timestamp()
WHERE id = %(id)s
