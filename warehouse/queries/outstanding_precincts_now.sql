-- Declared precincts of an election with neither a protocol in force nor an annulment now (the projections): how many, and their registered voters (what a publication records for its certainty bounds).
SELECT count(*), coalesce(sum(d.registered_voters), 0)
FROM proj_precincts d
WHERE d.election_id = $election
  AND NOT EXISTS (SELECT 1 FROM proj_precinct_results r
                  WHERE r.election_id = d.election_id AND r.precinct_id = d.precinct_id)
  AND NOT EXISTS (SELECT 1 FROM proj_annulments a
                  WHERE a.election_id = d.election_id AND a.precinct_id = d.precinct_id)
