-- Which of the expected compliance tables exist. Parameters: schema, tables (text[]).
SELECT t.name, to_regclass(quote_ident(%(schema)s) || '.' || quote_ident(t.name)) IS NOT NULL
FROM unnest(%(tables)s::text[]) AS t(name)
