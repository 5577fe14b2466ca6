-- The macros one attached database stores, each with its definitions joined ($database: its name): verify compares the warehouse's with its own.
SELECT function_name, string_agg(coalesce(macro_definition, ''), ';' ORDER BY macro_definition)
FROM duckdb_functions()
WHERE database_name = $database AND function_type IN ('macro', 'table_macro')
GROUP BY function_name
