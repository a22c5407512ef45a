-- Bounds of the single-column integer primary key, for chunking an initial load.
SELECT min({key}), max({key}) FROM {source} WHERE {predicate}
