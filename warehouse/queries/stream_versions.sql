-- The version each of the wanted streams (a registered frame) has reached in the log.
SELECT e.stream_id, max(e.stream_version)
FROM events e
JOIN wanted_streams w USING (stream_id)
GROUP BY e.stream_id
