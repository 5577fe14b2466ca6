-- The last event of an election whose type is in $result_events, in the whole log (0 when none).
SELECT coalesce(max(position), 0)
FROM events
WHERE election_id = $election AND list_contains($result_events, event_type)
