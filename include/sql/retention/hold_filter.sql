AND NOT ((compliance.hash_erasure(ARRAY[({user_column})::text]))[1] = ANY(%(held_refs)s))
