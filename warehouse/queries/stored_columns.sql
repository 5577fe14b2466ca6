-- The columns of one table of an attached database, in order, with their types.
SELECT column_name, data_type
FROM duckdb_columns()
WHERE database_name = $database AND table_name = $table
ORDER BY column_index
