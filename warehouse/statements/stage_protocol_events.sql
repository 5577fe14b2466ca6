-- The event rows of the staged protocols, before their hashes: the file's election, times and batch on every row.
CREATE OR REPLACE TEMP TABLE _staged_events AS
SELECT position, stream_id, stream_version::INTEGER AS stream_version, event_type,
       $election AS election_id, $occurred::TIMESTAMP AS occurred_at,
       $recorded::TIMESTAMP AS recorded_at, $batch AS batch_id, payload
FROM _staged_protocols
