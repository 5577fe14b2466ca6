-- The names of a database's tables and (not internal) views.
SELECT table_name FROM duckdb_tables() WHERE database_name = ?
UNION ALL
SELECT view_name FROM duckdb_views() WHERE database_name = ? AND NOT internal
