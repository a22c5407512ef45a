COPY {target} ({columns}, _extracted_at, _extract_batch_id) FROM STDIN (FORMAT binary)
