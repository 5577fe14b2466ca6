-- Declared precincts of an election with neither a protocol in force nor an annulment by a log position: how many, and their registered voters (what the certainty bounds leave open).
WITH reported AS (
    SELECT precinct_id FROM precinct_results_as_of($election, $as_of)
), annulled AS (
    SELECT DISTINCT precinct_id FROM stg_annulments WHERE election_id = $election AND position <= $as_of
)
SELECT count(*), coalesce(sum(d.registered_voters), 0)
FROM proj_precincts d
ANTI JOIN reported USING (precinct_id)
ANTI JOIN annulled USING (precinct_id)
WHERE d.election_id = $election
