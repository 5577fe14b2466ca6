-- The ElectionDeclared and RulesAmended events of one election up to a log position, in log order: what decides its rules in force there.
SELECT position, event_type, stream_id, occurred_at, batch_id, payload
FROM events
WHERE election_id = $election AND event_type IN ($declared, $amended) AND position <= $as_of
ORDER BY position
