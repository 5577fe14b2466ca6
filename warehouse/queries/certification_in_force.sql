-- The last certification or revocation of an election at or before a log position, read from the log.
SELECT event_type, position, payload->>'$.publication_id' AS publication_id,
       CAST(payload->>'$.based_on_position' AS BIGINT) AS based_on_position
FROM events
WHERE election_id = $election
  AND event_type IN ($certified, $revoked)
  AND position <= $as_of
ORDER BY position DESC
LIMIT 1
