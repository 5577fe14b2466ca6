-- The payload of one election's declaration (its first ElectionDeclared event): the lists as declared, with their kinds.
SELECT payload
FROM events
WHERE election_id = $election AND event_type = $declared
ORDER BY position
LIMIT 1
