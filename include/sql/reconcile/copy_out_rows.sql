-- The replica's rows of one bucket over the compared columns, streamed in binary (to be checked
-- against the tombstones on the warehouse as the extract checks them).
COPY (
    SELECT {columns}
    FROM {source}
    WHERE {predicate}
) TO STDOUT (FORMAT binary)
