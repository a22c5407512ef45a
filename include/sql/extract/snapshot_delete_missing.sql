-- Full-snapshot tables mirror the source: rows deleted at source are deleted from raw.
DELETE FROM {raw} AS r
WHERE NOT EXISTS (SELECT 1 FROM {stage} AS s WHERE {key_match})
