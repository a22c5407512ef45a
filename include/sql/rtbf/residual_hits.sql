-- Zero-residual scan of one warehouse table through the scanner's SECURITY DEFINER function: hit
-- counts per column (column NULL: rows with any hit), never a value.
SELECT column_name, hits
FROM rtbf.residual_hits(%(schema)s, %(table)s, %(user_columns)s::text[], %(substring_columns)s::text[],
                        %(exact)s::text[], %(contains)s::text[], %(user_ids)s::bigint[])
