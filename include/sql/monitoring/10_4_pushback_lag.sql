-- Runbook §10.4 Push-back lag: last push per app summary, the most lagging first.
-- Database: analytics_db on .104. Covers every <app>.user_summary that exists (the runbook's
-- UNION over bidbaas, tagme, ... by hand), reading max(last_updated_at) of each.
SELECT s.view, s.last_push, now() - s.last_push AS lag
FROM (
    SELECT format('%s.%s', t.table_schema, t.table_name) AS view,
           (xpath('/row/m/text()',
                  query_to_xml(format('SELECT max(last_updated_at) AS m FROM %I.%I', t.table_schema, t.table_name),
                               false, true, '')))[1]::text::timestamptz AS last_push
    FROM information_schema.columns AS t
    WHERE t.table_name = 'user_summary' AND t.column_name = 'last_updated_at'
) AS s
ORDER BY lag DESC NULLS FIRST;
