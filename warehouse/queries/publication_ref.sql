-- One publication's id, election, status and the log position it is based on.
SELECT publication_id, election_id, status, based_on_position
FROM proj_publications
WHERE publication_id = $publication
