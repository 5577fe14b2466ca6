-- The declared election a publication belongs to: id, name, date, whether synthetic, whether "against all" is on the ballot.
SELECT e.election_id, e.name, e.election_date, e.synthetic, e.against_all_on_ballot
FROM proj_elections e
JOIN proj_publications p USING (election_id)
WHERE p.publication_id = $publication
