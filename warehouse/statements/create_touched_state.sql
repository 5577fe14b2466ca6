-- _touched_state: each touched precinct as it stands now (declared region, protocol in force, annulled), read once from the million-row projections.
CREATE OR REPLACE TEMP TABLE _touched_state AS
SELECT t.election_id, t.precinct_id, d.region_id AS declared_region, d.registered_voters,
       r.region_id, r.protocol_position, r.ballots_cast, r.invalid_ballots, r.against_all,
       r.precinct_id IS NOT NULL AS reported, a.precinct_id IS NOT NULL AS annulled,
       r.precinct_id IS NOT NULL AND a.precinct_id IS NULL AS counted
FROM _touched t
LEFT JOIN proj_precincts d USING (election_id, precinct_id)
LEFT JOIN proj_precinct_results r USING (election_id, precinct_id)
LEFT JOIN proj_annulments a USING (election_id, precinct_id)
