-- National votes per list now, from the running totals (same columns as national_list_votes_as_of).
SELECT list_id, sum(votes) FROM proj_region_list_votes WHERE election_id = $election GROUP BY list_id
