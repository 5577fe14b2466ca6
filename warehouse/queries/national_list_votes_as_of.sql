-- National votes per list as of a log position: each precinct's protocol in force, annulled precincts left out.
SELECT list_id, sum(votes)
FROM precinct_list_votes_as_of($election, $as_of)
WHERE NOT annulled
GROUP BY list_id
