-- Declared precincts of an election that have neither reported nor been annulled: what blocks certification.
SELECT p.precinct_id
FROM proj_precincts p
WHERE p.election_id = $election
  AND NOT EXISTS (SELECT 1 FROM proj_precinct_results r
                  WHERE r.election_id = p.election_id AND r.precinct_id = p.precinct_id)
  AND NOT EXISTS (SELECT 1 FROM proj_annulments a
                  WHERE a.election_id = p.election_id AND a.precinct_id = p.precinct_id)
ORDER BY p.precinct_id
