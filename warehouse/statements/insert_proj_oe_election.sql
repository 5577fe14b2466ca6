-- An OpenElections election into proj_oe_elections, from its first ContestsDeclared event only.
INSERT INTO proj_oe_elections
SELECT $election, $state, $date, $file_name, $position
WHERE NOT EXISTS (SELECT 1 FROM proj_oe_elections WHERE election_id = $election)
