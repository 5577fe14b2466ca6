-- The base tables one attached database stores ($database: its name).
SELECT table_name FROM duckdb_tables() WHERE database_name = $database
