-- How many times an election was certified ($certified: the event type), revoked certifications included.
SELECT count(*) FROM events WHERE election_id = $election AND event_type = $certified
