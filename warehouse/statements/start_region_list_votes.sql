-- Zero votes for every region and list of the elections in _new_elections.
INSERT INTO proj_region_list_votes
SELECT g.election_id, g.region_id, l.list_id, 0
FROM proj_regions g JOIN _new_elections USING (election_id) JOIN proj_lists l USING (election_id)
