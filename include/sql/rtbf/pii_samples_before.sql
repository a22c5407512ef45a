-- PII guard samples (pii_guard.needles_<UTC start>_<invocation>, include/dbt/macros/pii/pii_sample.sql)
-- of dbt invocations that started before %(cutoff)s and may still be running (started within the
-- 6 hours after which the next invocation drops them): they may hold values sampled from raw before
-- the cascade erased them, until their invocation ends and drops them. Names only.
SELECT c.relname::pg_catalog.text
FROM pg_catalog.pg_class AS c
WHERE c.relnamespace = pg_catalog.to_regnamespace('pii_guard')
  AND c.relkind = 'r'
  AND c.relname ~ '^needles_[0-9]{14}_'
  AND pg_catalog.to_timestamp(pg_catalog.substr(c.relname, 9, 14), 'YYYYMMDDHH24MISS')::timestamp
          AT TIME ZONE 'UTC'
      BETWEEN %(cutoff)s::timestamptz - interval '6 hours' AND %(cutoff)s::timestamptz
ORDER BY 1
