-- Votes per list of every precinct whose protocol is in force (reported, not annulled) at a log position.
SELECT precinct_id, list_id, votes
FROM precinct_list_votes_as_of($election, $as_of)
WHERE NOT annulled
