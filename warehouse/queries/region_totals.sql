-- Each region's precinct counts and ballot figures now, from the running totals (same columns as region_totals_as_of).
SELECT g.region_id, g.name, t.precincts_expected, t.precincts_reported, t.precincts_annulled,
       t.precincts_pending, t.registered_voters, t.registered_voters_counted, t.ballots_cast,
       t.invalid_ballots, t.against_all
FROM proj_regions g
JOIN proj_region_totals t USING (election_id, region_id)
WHERE g.election_id = $election
ORDER BY g.name, g.region_id
