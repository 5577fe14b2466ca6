-- The views one attached database stores, with their SQL ($database: its name): verify compares the warehouse's with its own.
SELECT view_name, sql FROM duckdb_views() WHERE database_name = $database AND NOT internal
