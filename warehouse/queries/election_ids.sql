-- The ids of every declared election, sorted.
SELECT election_id FROM proj_elections ORDER BY election_id
