-- compliance (.118): the token vault forgets the user's values (key holder's function); returns the count.
SELECT compliance.rtbf_erase_vault_tokens(%(tokens)s)
