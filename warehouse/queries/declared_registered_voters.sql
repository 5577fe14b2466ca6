-- Registered voters of every precinct one election's declaration lists (the log's own figures): the electorate a threshold on registered voters is measured against.
SELECT coalesce(sum(registered_voters), 0)
FROM declared_precincts
WHERE election_id = $election
