-- How many times a file's bytes were received as an OpenElections file (a refusal in another format does not count).
SELECT count(*)
FROM events
WHERE stream_id = ? AND event_type = ? AND payload->>'$.file_format' = ?
