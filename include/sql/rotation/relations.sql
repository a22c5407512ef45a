-- Relations (tables, views, materialized views) of the given schemas, with their row-count-able kind.
-- Parameters: %(schemas)s text[]
SELECT n.nspname AS schema_name, c.relname AS relation, c.relkind::text AS kind
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = ANY (%(schemas)s::text[])
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY 1, 2
