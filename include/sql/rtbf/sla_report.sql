-- compliance (.118): the SLA clock; request ids and states only.
SELECT request_id, status, requested_at, age, cascade_due, close_due, held, sla_state
FROM compliance.rtbf_sla_report
WHERE status <> 'closed'
ORDER BY requested_at
