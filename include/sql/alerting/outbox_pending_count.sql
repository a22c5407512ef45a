-- Alerts still waiting for delivery (not sent, not given up).
SELECT count(*) FROM ops.alert_outbox WHERE sent_at IS NULL AND gave_up_at IS NULL
