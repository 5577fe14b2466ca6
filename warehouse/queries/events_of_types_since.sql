-- The events of the given types ($types, a list) after position $since, in log order, with their payloads: what projections read one by one.
SELECT position, election_id, batch_id, occurred_at, payload
FROM events
WHERE position > $since AND list_contains($types, event_type)
ORDER BY position
