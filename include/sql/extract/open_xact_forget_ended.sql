-- Ranges whose every transaction has ended (all below the standby's current xmin): this batch's
-- window, which starts at or before their hold, reads what they committed.
DELETE FROM etl.extract_open_xact
WHERE source_db = %(source_db)s AND table_name = %(table_name)s AND xid_to <= %(xmin)s
