-- The standby's snapshot of the primary's transactions: xmin is the oldest one still running as far
-- as it has replayed (xmin = xmax: none), xmax the next one to be assigned. Read before the batch's
-- COPY: a transaction below xmin has ended and the COPY sees its rows.
SELECT pg_snapshot_xmin(s)::text::bigint AS xmin,
       pg_snapshot_xmax(s)::text::bigint AS xmax
FROM pg_current_snapshot() AS s
