-- How far this connection's snapshot generation and the database attached as source_database reach: each log's head and projection checkpoint, and whether the source holds the generation's head event (its log then extends the generation's).
WITH own_head AS (SELECT coalesce(max(position), 0) AS position FROM events)
SELECT
    (SELECT position FROM own_head) AS head,
    (SELECT coalesce(max(position), 0) FROM projection_checkpoints WHERE projection = $checkpoint) AS checkpoint,
    (SELECT coalesce(max(position), 0) FROM source_database.events) AS source_head,
    (SELECT coalesce(max(position), 0) FROM source_database.projection_checkpoints
     WHERE projection = $checkpoint) AS source_checkpoint,
    (SELECT position FROM own_head) = 0 OR EXISTS (
        SELECT 1 FROM events e JOIN source_database.events s USING (position, event_hash)
        WHERE e.position = (SELECT position FROM own_head)
    ) AS extends_head
