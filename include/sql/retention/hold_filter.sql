AND NOT EXISTS (
    SELECT 1 FROM compliance.rtbf_user_refs(ARRAY[({user_column})::text]) AS r
    WHERE r.ref = ANY(%(held_refs)s))
