-- Whether the readers' snapshot generation this connection opened can be brought up to the database attached as source_database by delta: its tables; the same definitions of tables, views, indexes and sequences; the heads and projection checkpoints of both logs; whether the source holds the generation's head event (its log then extends the generation's).
WITH definitions AS (
    SELECT database_name, 'table' AS kind, table_name AS name, sql FROM duckdb_tables()
    UNION ALL
    SELECT database_name, 'view', view_name, sql FROM duckdb_views() WHERE NOT internal
    UNION ALL
    SELECT database_name, 'index', index_name, sql FROM duckdb_indexes()
    UNION ALL
    SELECT database_name, 'sequence', sequence_name, sql FROM duckdb_sequences()
), own_head AS (
    SELECT coalesce(max(position), 0) AS position FROM events
)
SELECT
    (SELECT list(name ORDER BY name) FROM definitions
     WHERE database_name = current_database() AND kind = 'table') AS tables,
    (SELECT list((kind, name, sql) ORDER BY kind, name, sql) FROM definitions
     WHERE database_name = current_database())
    IS NOT DISTINCT FROM
    (SELECT list((kind, name, sql) ORDER BY kind, name, sql) FROM definitions
     WHERE database_name = 'source_database') AS same_definitions,
    (SELECT position FROM own_head) AS head,
    (SELECT coalesce(max(position), 0) FROM projection_checkpoints WHERE projection = $checkpoint) AS checkpoint,
    (SELECT coalesce(max(position), 0) FROM source_database.events) AS source_head,
    (SELECT coalesce(max(position), 0) FROM source_database.projection_checkpoints
     WHERE projection = $checkpoint) AS source_checkpoint,
    (SELECT position FROM own_head) = 0 OR EXISTS (
        SELECT 1 FROM events e JOIN source_database.events s USING (position, event_hash)
        WHERE e.position = (SELECT position FROM own_head)
    ) AS extends_head
