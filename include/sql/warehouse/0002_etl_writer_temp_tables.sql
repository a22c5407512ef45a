-- The extract lands each batch in a session-private temporary stage before merging into raw.
GRANT TEMPORARY ON DATABASE data_warehouse TO etl_writer;
