-- Every table (ordinary, partitioned, materialized view) of the given schemas with its columns
-- whether the reader (%(reader)s, or the current role when NULL) may read it and who owns it.
SELECT n.nspname AS schema_name, c.relname AS table_name,
       pg_catalog.has_schema_privilege(coalesce(%(reader)s::name, current_user), n.oid, 'USAGE')
           AND pg_catalog.has_table_privilege(coalesce(%(reader)s::name, current_user), c.oid, 'SELECT') AS readable,
       pg_catalog.pg_get_userbyid(c.relowner)::text AS owner,
       pg_catalog.array_agg(a.attname::text ORDER BY a.attnum) AS columns,
       pg_catalog.array_agg(pg_catalog.format_type(a.atttypid, NULL) ORDER BY a.attnum) AS types
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p', 'm')
  AND NOT c.relispartition
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY(%(schemas)s::text[]))
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname !~ '^pg_(toast_)?temp_'
GROUP BY n.nspname, n.oid, c.relname, c.oid
ORDER BY n.nspname, c.relname
