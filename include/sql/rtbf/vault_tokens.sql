SELECT token FROM compliance.rtbf_vault_tokens(%(family)s, %(values)s)
