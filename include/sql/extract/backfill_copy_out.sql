-- Key and newly added columns of every source row (a column added with a default has a value in
-- rows that existed before it, without their cursor moving).
COPY (SELECT {columns} FROM {source}) TO STDOUT (FORMAT binary)
