-- One bounded batch of raw rows past retention (by tuple id: each batch is a short transaction).
-- The hold filter (retention/hold_filter.sql) keeps the rows of users under legal hold.
DELETE FROM {raw}
WHERE ctid = ANY (ARRAY(
    SELECT ctid FROM {raw}
    WHERE {column} < %(cutoff)s {hold_filter}
    LIMIT %(batch_rows)s))
