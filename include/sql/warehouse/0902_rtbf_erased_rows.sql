-- warehouse (.106): how many rows the right-to-be-forgotten cascade erased in place per dbt
-- relation (deleted or blanked), for salt rotation's shadow verification: a rebuild from raw
-- recomputes those rows (a review of a forgotten user's certificate comes back with the owner
-- blanked), so the shadow may differ from the live relation by at most that many rows more than
-- the rows extracted since the live build. Counts per relation only: no request id, no run, no time.
CREATE VIEW rtbf.erased_rows_per_relation AS
SELECT pg_catalog.split_part(j.target, '(', 1) AS relation,
       pg_catalog.sum(j.rows_affected)::bigint AS rows_erased
FROM rtbf.erasure_journal AS j
WHERE j.layer <> 'raw'
GROUP BY 1;

REVOKE ALL ON rtbf.erased_rows_per_relation FROM PUBLIC;
GRANT SELECT ON rtbf.erased_rows_per_relation TO dbt_writer;
