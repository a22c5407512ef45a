-- The warehouse writer fence (include/sql/warehouse/0600_least_privilege_fences.sql): every
-- violation (writer-owned SECURITY DEFINER code, delegated write grants, raw/staging exposure,
-- PUBLIC EXECUTE defaults), and whether the event trigger that refuses them is enabled.
SELECT kind, object, detail FROM ops.writer_fence_violations()
UNION ALL
SELECT 'event_trigger_missing_or_disabled', 'writer_fence', coalesce(max(evtenabled::text), 'missing')
FROM pg_event_trigger
WHERE evtname = 'writer_fence'
HAVING coalesce(max(evtenabled::text), 'missing') <> 'O'
