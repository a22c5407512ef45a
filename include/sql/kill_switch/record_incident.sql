-- compliance (.118): who engaged/released the warehouse kill switch, when and why.
INSERT INTO compliance.incident_log (kind, severity, actor, summary, details)
VALUES (%(kind)s, 'P1', %(actor)s, %(summary)s, %(details)s::jsonb)
RETURNING incident_id, occurred_at
