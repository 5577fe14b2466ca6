-- The quarantined rows and files of one election, or of every election when $election is NULL, in log order: `elections quarantine`.
SELECT * FROM proj_quarantine
WHERE $election IS NULL OR election_id = $election
ORDER BY position
