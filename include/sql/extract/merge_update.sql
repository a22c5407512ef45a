UPDATE {raw} AS r
SET {assignments}, _extracted_at = s._extracted_at, _extract_batch_id = s._extract_batch_id
FROM {stage} AS s
WHERE {key_match}
