-- The declared precincts of election $election among those staged in _wanted_precincts (the ids a file names), by id.
SELECT d.precinct_id, d.region_id, d.registered_voters
FROM declared_precincts d JOIN _wanted_precincts USING (precinct_id)
WHERE d.election_id = $election
ORDER BY d.precinct_id
