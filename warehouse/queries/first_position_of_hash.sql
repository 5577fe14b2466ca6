-- The first log position whose event has a given hash (NULL when none has).
SELECT min(position) FROM events WHERE event_hash = $event_hash
