-- Macros stored in a database (default: the connection's own) under the name of a DuckDB built-in, which a connection to it would call instead.
-- One pass over duckdb_functions() (~3,000 rows, built afresh by each call): every writer opens with this check.
SELECT function_name
FROM duckdb_functions()
GROUP BY function_name
HAVING bool_or(database_name = coalesce(?, current_database()) AND function_type IN ('macro', 'table_macro'))
   AND bool_or(database_name = 'system')
ORDER BY 1
