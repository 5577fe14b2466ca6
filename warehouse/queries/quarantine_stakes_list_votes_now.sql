-- Votes per list that the declared precincts named by the quarantine of an election count now (their protocols in force, not annulled; same columns as quarantine_stakes_list_votes_as_of).
WITH named AS (
    SELECT DISTINCT q.precinct_id
    FROM proj_quarantine q
    JOIN proj_precincts d ON d.election_id = q.election_id AND d.precinct_id = q.precinct_id
    WHERE q.election_id = $election
), in_force AS (
    SELECT r.protocol_position
    FROM proj_precinct_results r
    WHERE r.election_id = $election
      AND r.precinct_id IN (SELECT precinct_id FROM named)
      AND NOT EXISTS (SELECT 1 FROM proj_annulments a
                      WHERE a.election_id = r.election_id AND a.precinct_id = r.precinct_id)
)
SELECT v.list_id, sum(v.votes)
FROM in_force f
JOIN protocol_votes v ON v.position = f.protocol_position
GROUP BY v.list_id
ORDER BY v.list_id
