-- Right to be forgotten: the batch (in its stage) holds rows the source now attributes to a
-- forgotten user (e.g. a row re-pointed to them). Raw must not keep an older version of those rows:
-- delete them from raw first (by key), then the stage drops them (drop_forgotten_users.sql).
DELETE FROM {raw} AS r
USING {stage} AS s
WHERE {key_match}
  AND s.{user_column} IS NOT NULL
  AND (s.{user_column})::text = ANY (ARRAY(
      SELECT compliance.rtbf_forgotten_among('user', ARRAY(
          SELECT DISTINCT ({user_column})::text FROM {stage} WHERE {user_column} IS NOT NULL))))
