-- The staged event rows (the files' protocol events and the registered frame _staged_serialized of their other events) into the log, with the hashes chained for them (the registered frame _chained), in position order.
INSERT INTO events
SELECT e.*, c.prev_hash, c.event_hash
FROM (
    SELECT * FROM _staged_events
    UNION ALL
    SELECT position, stream_id, stream_version::INTEGER, event_type, election_id,
           occurred_at::TIMESTAMP, recorded_at::TIMESTAMP, batch_id, payload
    FROM _staged_serialized
) e JOIN _chained c USING (position)
ORDER BY position
