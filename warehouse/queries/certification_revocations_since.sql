-- Rows of proj_certification_revocations for the CertificationRevoked events after position $since.
SELECT position, election_id, payload->>'$.publication_id', payload->>'$.reason',
       payload->>'$.decided_by', payload->>'$.operator', occurred_at
FROM events
WHERE event_type = $revoked AND position > $since
