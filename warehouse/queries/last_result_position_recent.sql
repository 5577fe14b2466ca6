-- The last event of an election among the log's latest $recent positions whose type is in $result_events (none: look in the whole log).
SELECT max(position)
FROM events
WHERE election_id = $election AND list_contains($result_events, event_type)
  AND position > (SELECT coalesce(max(position), 0) FROM events) - $recent
