-- Votes and seats of every list of an election in two publications ($before, $after) and the change: `elections diff`.
SELECT l.list_id, l.name,
       coalesce(a.votes, 0) AS votes_before, coalesce(b.votes, 0) AS votes_after,
       coalesce(b.votes, 0) - coalesce(a.votes, 0) AS votes_change,
       coalesce(a.seats, 0) AS seats_before, coalesce(b.seats, 0) AS seats_after,
       coalesce(b.seats, 0) - coalesce(a.seats, 0) AS seats_change
FROM proj_lists l
LEFT JOIN proj_published_seats a ON a.publication_id = $before AND a.list_id = l.list_id
LEFT JOIN proj_published_seats b ON b.publication_id = $after AND b.list_id = l.list_id
WHERE l.election_id = $election
ORDER BY l.ballot_order
