-- Right to be forgotten: a row the app has since given to a tombstoned user (its user column now
-- names them) is dropped from the batch by drop_forgotten_users.sql; raw's older copy of that row,
-- landed under its previous owner, goes too, so raw never keeps a version the app no longer holds.
DELETE FROM {raw} AS r
USING {stage} AS s
WHERE {key_match}
  AND (s.{user_column})::text = ANY (ARRAY(
      SELECT compliance.rtbf_forgotten_among('user', ARRAY(
          SELECT DISTINCT ({user_column})::text FROM {stage} WHERE {user_column} IS NOT NULL))))
