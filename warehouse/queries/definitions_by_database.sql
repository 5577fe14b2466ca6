-- The definitions of the tables, views, indexes and sequences of this connection's database and of the one attached as source_database, one list per database: a snapshot generation is brought up to date by delta only while both lists are equal.
SELECT database_name = current_database() AS own,
       list((kind, name, sql) ORDER BY kind, name, sql) AS definitions
FROM (
    SELECT database_name, 'table' AS kind, table_name AS name, sql FROM duckdb_tables()
    UNION ALL
    SELECT database_name, 'view', view_name, sql FROM duckdb_views() WHERE NOT internal
    UNION ALL
    SELECT database_name, 'index', index_name, sql FROM duckdb_indexes()
    UNION ALL
    SELECT database_name, 'sequence', sequence_name, sql FROM duckdb_sequences()
)
WHERE database_name IN (current_database(), 'source_database')
GROUP BY database_name
