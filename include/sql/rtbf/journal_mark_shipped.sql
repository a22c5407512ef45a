UPDATE rtbf.erasure_journal SET shipped_at = now() WHERE journal_id = ANY(%(ids)s)
