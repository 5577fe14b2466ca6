-- The lists of one election in ballot order: id, name, ballot order, colour and length (candidates).
SELECT list_id, name, ballot_order, color, candidates
FROM proj_lists
WHERE election_id = $election
ORDER BY ballot_order
