-- Salt rotation: which push-back summary marts exist in the warehouse (the ones to refresh).
SELECT c.relname
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'marts' AND c.relname = ANY (%(models)s) AND c.relkind IN ('r', 'v', 'm', 'p');
