-- How many times an election's certification was revoked ($revoked: the event type): numbers the provisional publication of each revocation.
SELECT count(*) FROM events WHERE election_id = $election AND event_type = $revoked
