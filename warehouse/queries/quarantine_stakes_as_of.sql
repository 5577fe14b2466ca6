-- What the quarantine of an election puts at stake by a log position ($until), the protocols in force at another ($as_of, the table's): entries naming no declared precinct, the declared precincts named, their registered voters, and what their protocols in force count then ('against all', invalid).
WITH entries AS (
    SELECT q.precinct_id, d.registered_voters
    FROM proj_quarantine q
    LEFT JOIN proj_precincts d ON d.election_id = q.election_id AND d.precinct_id = q.precinct_id
    WHERE q.election_id = $election AND q.position <= $until
), named AS (
    SELECT DISTINCT precinct_id, registered_voters FROM entries WHERE registered_voters IS NOT NULL
), in_force AS (
    SELECT precinct_id, against_all, invalid_ballots
    FROM precinct_results_as_of($election, $as_of)
    WHERE NOT annulled
)
SELECT (SELECT count(*) FROM entries),
       (SELECT count(*) FROM entries WHERE registered_voters IS NULL),
       count(n.precinct_id),
       coalesce(sum(n.registered_voters), 0),
       coalesce(sum(r.against_all), 0),
       coalesce(sum(r.invalid_ballots), 0)
FROM named n
LEFT JOIN in_force r USING (precinct_id)
