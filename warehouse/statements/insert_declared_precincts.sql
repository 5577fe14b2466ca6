-- The precincts one ElectionDeclared event (at $position, election $election) declares, from the registered Arrow table _declared_rows, in declaration order.
INSERT INTO declared_precincts (position, election_id, precinct_id, region_id, registered_voters)
SELECT CAST($position AS BIGINT), CAST($election AS VARCHAR), precinct_id, region_id, registered_voters
FROM _declared_rows
