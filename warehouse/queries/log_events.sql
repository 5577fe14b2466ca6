-- The stored events after a position, of the given types and election when asked (NULL: any), in log order.
SELECT position, stream_id, stream_version, event_type, election_id, occurred_at, recorded_at, batch_id,
       payload, prev_hash, event_hash
FROM events
WHERE position > $after
  AND ($types IS NULL OR list_contains($types, event_type))
  AND ($election IS NULL OR election_id = $election)
ORDER BY position
