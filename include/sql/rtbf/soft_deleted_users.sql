-- warehouse raw, as dbt_writer: users soft-deleted in the app (landed by the extract within a day).
SELECT {id}::text AS user_id, {deleted_at} AS deleted_at FROM {table} WHERE {deleted_at} IS NOT NULL
