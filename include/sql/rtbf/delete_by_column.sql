-- Delete the rows of one table whose column holds one of the values (by the column's index).
-- RETURNING the matched value attributes each removed row to its request (evidence per request).
DELETE FROM {table} WHERE {column} = ANY(%(values)s) RETURNING {column}
