-- Freshness of one raw table: its newest event time and its last successful extract.
-- {raw}: the raw table; {event_time}: the table's event-time column (or _extracted_at for
-- snapshot tables without one). Parameters: source_db, table_name.
SELECT (SELECT max({event_time}) FROM {raw})                        AS newest_event_at,
       (SELECT max(finished_at) FROM etl.extract_batch
         WHERE source_db = %(source_db)s AND table_name = %(table_name)s AND status = 'success')
                                                                    AS last_success_at,
       now()                                                        AS measured_at
