-- Right to be forgotten: rows of tombstoned users never land (compliance.rtbf_forgotten_among on
-- the warehouse tests the users of this batch against the tombstones; one key read per batch).
DELETE FROM {target}
WHERE {predicate}
  AND ({user_column})::text = ANY (ARRAY(
      SELECT compliance.rtbf_forgotten_among('user', ARRAY(
          SELECT DISTINCT ({user_column})::text FROM {target} WHERE {predicate} AND {user_column} IS NOT NULL))))
