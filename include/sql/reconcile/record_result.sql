INSERT INTO etl.reconcile_result
    (run_id, source_db, table_name, bucket, replica_rows, raw_rows, status, rows_repaired, detail)
VALUES
    (%(run_id)s, %(source_db)s, %(table_name)s, %(bucket)s, %(replica_rows)s, %(raw_rows)s, %(status)s,
     %(rows_repaired)s, %(detail)s)
