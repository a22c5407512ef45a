INSERT INTO {raw} ({columns}, _extracted_at, _extract_batch_id)
SELECT {stage_columns}, s._extracted_at, s._extract_batch_id
FROM {stage} AS s
WHERE NOT EXISTS (SELECT 1 FROM {raw} AS r WHERE {key_match})
