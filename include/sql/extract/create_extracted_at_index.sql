-- dbt's incremental models select the rows extracted since their last run. Built after the
-- batches of a run (one sort after an initial load, not per-row upkeep during it); a no-op after.
CREATE INDEX IF NOT EXISTS {index} ON {raw} (_extracted_at)
