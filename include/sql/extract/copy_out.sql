-- Rows of one window (or key range) with the batch's audit columns, streamed in binary.
COPY (
    SELECT {columns}, {extracted_at}::timestamptz, {batch_id}::uuid
    FROM {source}
    WHERE {predicate}
) TO STDOUT (FORMAT binary)
