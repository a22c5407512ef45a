-- warehouse raw, as dbt_writer: the subject's identifiers in one registry table (before deleting).
SELECT DISTINCT {columns} FROM {table} WHERE {user_column} = %(user_id)s
