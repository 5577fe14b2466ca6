-- The file of the connection's current database ('' or NULL for an in-memory one): where its publications go.
SELECT path FROM duckdb_databases() WHERE database_name = current_database()
