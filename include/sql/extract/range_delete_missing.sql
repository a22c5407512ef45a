-- Reconciliation re-extracts a key range (or day): raw's rows in it that the source no longer has go.
DELETE FROM {raw} AS r
WHERE ({where})
  AND NOT EXISTS (SELECT 1 FROM {stage} AS s WHERE {key_match})
