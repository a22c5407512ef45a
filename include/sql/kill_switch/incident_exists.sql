-- compliance (.118): is this state change already in the incident log? (a retried engage or
-- release whose database part had committed must not record it twice, nor miss it)
SELECT incident_id
FROM compliance.incident_log
WHERE kind = %(kind)s
  AND details ->> 'state_changed_at' = %(state_changed_at)s
ORDER BY incident_id
LIMIT 1
