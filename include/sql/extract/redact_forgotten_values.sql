-- Right to be forgotten: another user's row that names a forgotten user (their email / phone / SA ID
-- as a contact or recipient, or their id in a user reference column, kind 'user', e.g. a payment's
-- merchant) lands with that column blanked.
UPDATE {target} SET {column} = NULL
WHERE {predicate}
  AND ({column})::text = ANY (ARRAY(
      SELECT compliance.rtbf_forgotten_among({kind}, ARRAY(
          SELECT DISTINCT ({column})::text FROM {target} WHERE {predicate} AND {column} IS NOT NULL))))
