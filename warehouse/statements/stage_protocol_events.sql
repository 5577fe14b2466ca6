-- The event rows of the staged protocols, before their hashes: the election, and each file's times and batch from _file_layout.
CREATE OR REPLACE TEMP TABLE _staged_events AS
SELECT p.position, p.stream_id, p.stream_version::INTEGER AS stream_version, p.event_type,
       $election AS election_id, l.occurred_at::TIMESTAMP AS occurred_at,
       l.recorded_at::TIMESTAMP AS recorded_at, l.batch_id, p.payload
FROM _staged_protocols p JOIN _file_layout l USING (file_no)
