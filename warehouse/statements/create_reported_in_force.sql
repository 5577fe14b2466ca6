-- _reported: the protocol in force (highest accepted version) of each precinct staged in _wanted_precincts that has one, in election $election.
CREATE OR REPLACE TEMP TABLE _reported AS
SELECT f.* FROM protocol_facts f JOIN _wanted_precincts USING (precinct_id)
WHERE f.election_id = $election
QUALIFY row_number() OVER (PARTITION BY f.precinct_id ORDER BY f.protocol_version DESC) = 1
