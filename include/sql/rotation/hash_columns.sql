-- Columns holding pseudonyms (*_hash) of the relations of the given schemas.
-- Parameters: %(schemas)s text[]
SELECT c.table_schema, c.table_name, c.column_name
FROM information_schema.columns AS c
WHERE c.table_schema = ANY (%(schemas)s::text[])
  AND c.column_name LIKE '%%\_hash'
ORDER BY 1, 2, 3
