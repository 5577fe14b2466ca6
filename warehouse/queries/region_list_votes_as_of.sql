-- Votes per region and list of the precincts in force (reported, not annulled) as of a log position, counted from the log.
SELECT region_id, list_id, sum(votes)
FROM precinct_list_votes_as_of($election, $as_of)
WHERE NOT annulled
GROUP BY region_id, list_id
