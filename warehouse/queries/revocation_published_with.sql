-- The CertificationRevoked event a publication was appended with: of its election, at the log position right before it.
SELECT position, occurred_at, payload FROM events WHERE election_id = $election AND event_type = $revoked AND position = $position - 1
