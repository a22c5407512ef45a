-- Last successful extract of a table whose raw table does not exist yet. Parameters: source_db, table_name.
SELECT NULL::timestamptz AS newest_event_at,
       (SELECT max(finished_at) FROM etl.extract_batch
         WHERE source_db = %(source_db)s AND table_name = %(table_name)s AND status = 'success')
                                                                    AS last_success_at,
       now()                                                        AS measured_at
