-- Every archived file the log names, in log order: the file of each BatchReceived, and the ElectionDeclared and RulesAmended events whose payloads name sidecar files.
SELECT position, batch_id, NULL AS payload FROM events WHERE event_type = $received
UNION ALL
SELECT position, NULL, payload FROM events WHERE event_type IN ($declared, $amended)
ORDER BY 1
