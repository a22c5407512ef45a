-- Another user's row names the subject (a contact, a recipient): blank that column only.
-- RETURNING the value it held attributes each blanked row to its request.
WITH hit AS (
    SELECT ctid AS row_id, {column} AS old_value FROM {table} WHERE {column} = ANY(%(values)s) FOR UPDATE
)
UPDATE {table} AS t SET {column} = NULL
FROM hit WHERE t.ctid = hit.row_id
RETURNING hit.old_value
