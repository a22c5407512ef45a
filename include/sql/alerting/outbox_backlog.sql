-- Alerts still waiting for delivery in the durable outbox: how many, since when, and the last
-- delivery error (read by pipeline_monitor; names and figures only, no payloads).
SELECT count(*)                                 AS pending,
       min(created_at)                          AS oldest,
       string_agg(DISTINCT alertname, ', ')     AS alertnames,
       (array_agg(last_error ORDER BY last_attempt_at DESC NULLS LAST))[1] AS last_error
FROM ops.alert_outbox
WHERE sent_at IS NULL AND gave_up_at IS NULL
