-- What the quarantine of an election puts at stake now (the projections; same columns as quarantine_stakes_as_of): entries naming no declared precinct, the declared precincts named, their registered voters, and what their protocols in force count ('against all', invalid).
WITH entries AS (
    SELECT q.precinct_id, d.registered_voters
    FROM proj_quarantine q
    LEFT JOIN proj_precincts d ON d.election_id = q.election_id AND d.precinct_id = q.precinct_id
    WHERE q.election_id = $election
), named AS (
    SELECT DISTINCT precinct_id, registered_voters FROM entries WHERE registered_voters IS NOT NULL
), in_force AS (
    SELECT r.precinct_id, r.against_all, r.invalid_ballots
    FROM proj_precinct_results r
    WHERE r.election_id = $election
      AND r.precinct_id IN (SELECT precinct_id FROM named)
      AND NOT EXISTS (SELECT 1 FROM proj_annulments a
                      WHERE a.election_id = r.election_id AND a.precinct_id = r.precinct_id)
)
SELECT (SELECT count(*) FROM entries),
       (SELECT count(*) FROM entries WHERE registered_voters IS NULL),
       count(n.precinct_id),
       coalesce(sum(n.registered_voters), 0),
       coalesce(sum(r.against_all), 0),
       coalesce(sum(r.invalid_ballots), 0)
FROM named n
LEFT JOIN in_force r USING (precinct_id)
