-- Every declared precinct of an election as of a log position: reported, pending or annulled, with the figures of its protocol in force.
WITH reported AS (
    SELECT * FROM precinct_results_as_of($election, $as_of)
), annulled AS (
    SELECT DISTINCT precinct_id FROM stg_annulments WHERE election_id = $election AND position <= $as_of
)
SELECT d.precinct_id,
       d.region_id,
       CASE WHEN a.precinct_id IS NOT NULL THEN 'annulled'
            WHEN r.precinct_id IS NOT NULL THEN 'reported'
            ELSE 'pending' END AS state,
       d.registered_voters,
       coalesce(r.ballots_cast, 0) AS ballots_cast,
       coalesce(r.invalid_ballots, 0) AS invalid_ballots,
       coalesce(r.against_all, 0) AS against_all
FROM proj_precincts d
LEFT JOIN reported r USING (precinct_id)
LEFT JOIN annulled a USING (precinct_id)
WHERE d.election_id = $election
ORDER BY d.region_id, d.precinct_id
