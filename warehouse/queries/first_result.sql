-- Position and time of an election's first reported protocol (none before one arrived).
SELECT f.position, e.occurred_at
FROM protocol_facts f
JOIN events e USING (position)
WHERE f.election_id = $election
ORDER BY f.position
LIMIT 1
