-- Zero-residual scan of one table: rows where any column holds one of the subject's needles.
SELECT count(*) FROM {table} WHERE {predicate}
