-- The log's head, and whether no event after a position changed an election's results ($result_events: the event types that do).
SELECT (SELECT coalesce(max(position), 0) FROM events),
       NOT EXISTS (SELECT 1 FROM events
                   WHERE position > $position AND election_id = $election
                     AND list_contains($result_events, event_type))
