-- One undelivered alert into the durable outbox (dataacuity.alerting.outbox.queue_alerts).
INSERT INTO ops.alert_outbox (action, alertname, fingerprint, payload, last_error)
VALUES (%s, %s, %s, %s::jsonb, NULLIF(%s, ''))
