-- An election's latest publication (id, status): the one whose seat table is in force (proj_seat_table).
SELECT publication_id, status FROM proj_publications WHERE election_id = $election ORDER BY position DESC LIMIT 1
