-- _same_version: the rows of the files being decided (_batch; no precinct twice) whose precinct already has an accepted protocol of that version in election $election, and whether its five figures are equal.
CREATE OR REPLACE TEMP TABLE _same_version AS
SELECT b.precinct_id, f.position,
       (f.registered_voters = b.registered_voters AND f.ballots_issued = b.ballots_issued
        AND f.ballots_cast = b.ballots_cast AND f.invalid_ballots = b.invalid_ballots
        AND f.against_all = b.against_all) AS figures_equal
FROM protocol_facts f
JOIN _batch b ON f.precinct_id = b.precinct_id AND f.protocol_version = b.version
WHERE f.election_id = $election
