-- Every publication event (provisional or certified) of the log, in log order, with its publication id.
SELECT position, payload->>'$.publication_id'
FROM events
WHERE event_type IN ($published, $certified)
ORDER BY position
