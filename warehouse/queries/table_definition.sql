-- The CREATE statement of one table of the warehouse's main schema, as DuckDB keeps it (to recreate it empty).
SELECT sql FROM duckdb_tables()
WHERE table_name = $table AND database_name = current_database() AND schema_name = 'main'
