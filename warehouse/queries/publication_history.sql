-- The publications of an election up to a log position with the seats each gave every list: a publication's history chart.
WITH pubs AS (
    SELECT p.*, g.precincts_reported AS reported
    FROM proj_publications p
    JOIN proj_publication_progress g USING (publication_id)
    WHERE p.election_id = $election AND p.position <= $up_to
)
SELECT p.publication_id, p.status, p.position, p.based_on_position, p.published_at, p.reported,
       s.list_id, s.seats
FROM pubs p
JOIN proj_published_seats s USING (publication_id)
ORDER BY p.position, s.ballot_order
