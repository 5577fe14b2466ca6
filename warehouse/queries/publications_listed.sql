-- The publications (the `publications` view) of one election, or of every election when $election is NULL: `elections publications`.
SELECT * FROM publications
WHERE $election IS NULL OR election_id = $election
ORDER BY election_id, position
