-- The staged event rows into the log with the hashes chained for them (the registered frame _chained).
INSERT INTO events
SELECT e.*, c.prev_hash, c.event_hash
FROM _staged_events e JOIN _chained c USING (position)
ORDER BY position
