-- The last certification or revocation of an election at or before a log position, read from the log.
-- Materialized: the rare certification events are found by their type first and only those are matched
-- by election and read whole (the planner would otherwise compare and read every event's columns).
WITH certification_events AS MATERIALIZED (
    SELECT position, election_id
    FROM events
    WHERE event_type IN ($certified, $revoked) AND position <= $as_of
)
SELECT e.event_type, e.position, e.payload->>'$.publication_id' AS publication_id,
       CAST(e.payload->>'$.based_on_position' AS BIGINT) AS based_on_position
FROM certification_events c
JOIN events e USING (position)
WHERE c.election_id = $election
ORDER BY e.position DESC
LIMIT 1
