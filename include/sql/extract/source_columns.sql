-- Columns of one source table with the type raw should have. Enums land as text (labels), domains
-- as their base type. has_default: rows that existed before the column was added read a value.
-- Parameters: schema, table.
SELECT a.attname                                          AS column_name,
       CASE
           WHEN t.typtype = 'e' THEN 'text'
           WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod)
           ELSE format_type(a.atttypid, a.atttypmod)
       END                                                AS data_type,
       t.typtype = 'e'                                    AS is_enum,
       a.atthasdef OR a.atthasmissing                     AS has_default
FROM pg_attribute a
JOIN pg_class c     ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t      ON t.oid = a.atttypid
WHERE n.nspname = %(schema)s
  AND c.relname = %(table)s
  AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY a.attnum
