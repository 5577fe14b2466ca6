-- Move each region's votes per list in proj_region_list_votes by the sum of its _list_deltas.
UPDATE proj_region_list_votes t SET votes = t.votes + d.votes
FROM (
    SELECT election_id, region_id, list_id, sum(votes) AS votes
    FROM _list_deltas GROUP BY election_id, region_id, list_id
) d
WHERE t.election_id = d.election_id AND t.region_id = d.region_id AND t.list_id = d.list_id
