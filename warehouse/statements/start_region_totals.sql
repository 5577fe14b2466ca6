-- Zero running totals for every region of the elections in _new_elections: every declared precinct pending.
INSERT INTO proj_region_totals
SELECT g.election_id, g.region_id, count(p.precinct_id), 0, 0, 0, count(p.precinct_id),
       coalesce(sum(p.registered_voters), 0), 0, 0, 0, 0
FROM proj_regions g
JOIN _new_elections USING (election_id)
LEFT JOIN proj_precincts p USING (election_id, region_id)
GROUP BY g.election_id, g.region_id
