-- Rows identical to what raw already holds are dropped from the stage, so they are never
-- rewritten (their xmin stays): re-running a window costs reads, not writes.
DELETE FROM {stage} AS s
USING {raw} AS r
WHERE {key_match}
  AND ({raw_values}) IS NOT DISTINCT FROM ({stage_values})
