-- A failed delivery attempt; give_up (Alertmanager rejected the payload, 4xx) stops it blocking the queue.
UPDATE ops.alert_outbox
SET attempts = attempts + 1,
    last_error = %(error)s,
    last_attempt_at = clock_timestamp(),
    gave_up_at = CASE WHEN %(give_up)s THEN clock_timestamp() END
WHERE id = %(id)s
