SELECT pseudonym FROM compliance.rtbf_user_pseudonyms(%(user_id)s)
