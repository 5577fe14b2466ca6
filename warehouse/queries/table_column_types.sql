-- The columns and types of one table of the main schema of a database, in column order.
SELECT column_name, data_type
FROM duckdb_columns()
WHERE database_name = ? AND schema_name = 'main' AND table_name = ?
ORDER BY column_index
