-- The hash of the event at one log position (none when the log does not reach it).
SELECT event_hash FROM events WHERE position = $position
