-- One bounded batch of raw rows past retention (by tuple id: each batch is a short transaction).
-- {hold_filter} keeps the rows of users under legal hold.
DELETE FROM {raw}
WHERE ctid = ANY (ARRAY(
    SELECT ctid FROM {raw}
    WHERE {column} < %(cutoff)s {hold_filter}
    LIMIT %(batch_rows)s))
