-- The payload of the last event of one type in one stream (a file's receipt or refusal in its batch stream).
SELECT payload
FROM events
WHERE stream_id = $stream AND event_type = $event_type
ORDER BY position DESC
LIMIT 1
