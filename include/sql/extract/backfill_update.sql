-- Existing raw rows get the added columns' values; _extracted_at moves so incremental models
-- downstream pick the rows up again.
UPDATE {raw} AS r
SET {assignments}, _extracted_at = {extracted_at}
FROM {stage} AS s
WHERE {key_match}
  AND ({raw_values}) IS DISTINCT FROM ({stage_values})
