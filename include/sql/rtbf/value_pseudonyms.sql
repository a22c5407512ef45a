SELECT pseudonym FROM compliance.rtbf_value_pseudonyms(%(family)s, %(values)s)
