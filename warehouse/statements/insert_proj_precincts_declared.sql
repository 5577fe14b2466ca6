-- The precincts one ElectionDeclared event (at $position) declared, from its typed rows in declared_precincts.
INSERT INTO proj_precincts
SELECT election_id, precinct_id, region_id, registered_voters
FROM declared_precincts
WHERE position = $position
