-- Macros stored in a database (default: the connection's own) under the name of a DuckDB built-in, which a connection to it would call instead.
SELECT DISTINCT function_name
FROM duckdb_functions()
WHERE database_name = coalesce(?, current_database())
  AND function_type IN ('macro', 'table_macro')
  AND function_name IN (SELECT function_name FROM duckdb_functions() WHERE database_name = 'system')
ORDER BY 1
