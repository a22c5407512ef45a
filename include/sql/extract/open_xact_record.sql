-- Transactions running now that were not already covered took their xid after the previous batch
-- read its snapshot, so their rows carry cursor values after that batch's upper bound (its logged
-- window_end): hold the watermark there while they may be open. No previous batch: %(fallback)s.
INSERT INTO etl.extract_open_xact (source_db, table_name, xid_from, xid_to, hold_cursor)
VALUES (
    %(source_db)s, %(table_name)s, %(xmin)s, %(xmax)s,
    coalesce((SELECT b.window_end
              FROM etl.extract_batch b
              WHERE b.source_db = %(source_db)s AND b.table_name = %(table_name)s
                AND b.status = 'success' AND b.window_end IS NOT NULL
              ORDER BY b.finished_at DESC
              LIMIT 1), %(fallback)s)
)
ON CONFLICT (source_db, table_name, xid_to) DO NOTHING
