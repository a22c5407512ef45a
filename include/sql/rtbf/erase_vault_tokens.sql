-- compliance (.118): the token vault forgets the user's values.
DELETE FROM compliance.token_vault WHERE token = ANY(%(tokens)s)
