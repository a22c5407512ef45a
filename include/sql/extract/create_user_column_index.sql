-- Right to be forgotten deletes a user's rows by this index, not by a scan (built once, like
-- the _extracted_at index; a no-op after).
CREATE INDEX IF NOT EXISTS {index} ON {raw} ({user_column})
