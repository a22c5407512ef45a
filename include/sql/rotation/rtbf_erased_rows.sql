-- warehouse, as dbt_writer: rows the right-to-be-forgotten cascade erased in place per relation
-- (a rebuild from raw recomputes them: the shadow may differ from the live relation by that many).
SELECT relation, rows_erased FROM rtbf.erased_rows_per_relation
