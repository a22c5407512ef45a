-- The watermark may not pass the earliest hold of a range first seen within the table's limit;
-- a range older than the limit holds the oldest running transaction (xmin) for longer than the
-- limit: it is reported and holds nothing any more.
SELECT min(hold_cursor) FILTER (WHERE first_seen_at > now() - %(limit)s::interval) AS hold_cursor,
       min(first_seen_at) FILTER (WHERE first_seen_at <= now() - %(limit)s::interval) AS late_since
FROM etl.extract_open_xact
WHERE source_db = %(source_db)s AND table_name = %(table_name)s
