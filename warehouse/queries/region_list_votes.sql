-- Votes per region and list now, from the running totals (same columns as region_list_votes_as_of).
SELECT region_id, list_id, votes FROM proj_region_list_votes WHERE election_id = $election
