-- Macros stored in a database (default: the connection's own) under the name of a DuckDB built-in, in any letter case (DuckDB looks function names up without regard to case), which a connection to it would call instead.
-- duckdb_functions() (~3,000 rows, built afresh by each call) read once, as every writer opens with this check.
WITH functions AS MATERIALIZED (SELECT function_name, database_name, function_type FROM duckdb_functions())
SELECT DISTINCT function_name
FROM functions
WHERE database_name = coalesce(?, current_database())
  AND function_type IN ('macro', 'table_macro')
  AND lower(function_name) IN (SELECT lower(function_name) FROM functions WHERE database_name = 'system')
ORDER BY 1
