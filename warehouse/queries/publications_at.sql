-- The publications of an election at one base position (status and id), in log order: what is already published there.
SELECT status, publication_id FROM proj_publications WHERE election_id = $election AND based_on_position = $based_on ORDER BY position
