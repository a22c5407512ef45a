-- Right to be forgotten deletes a user's rows (user column) and blanks other users' columns that
-- name them (email / phone / SA ID) by these indexes, not by a scan. Built once after a run's
-- batches, like the _extracted_at index; a no-op after.
CREATE INDEX IF NOT EXISTS {index} ON {raw} ({column})
