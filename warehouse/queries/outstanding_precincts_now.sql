-- Declared precincts of an election with neither a protocol in force nor an annulment now, and their registered voters (what a publication records for its certainty bounds): from the running totals, less the annulled precincts' voters, instead of a pass over every precinct.
WITH annulled AS (
    SELECT coalesce(sum(d.registered_voters), 0) AS voters
    FROM proj_annulments a
    JOIN proj_precincts d ON d.election_id = a.election_id AND d.precinct_id = a.precinct_id
    WHERE a.election_id = $election
)
SELECT coalesce(sum(t.precincts_pending), 0),
       coalesce(sum(t.registered_voters) - sum(t.registered_voters_counted), 0) - (SELECT voters FROM annulled)
FROM proj_region_totals t
WHERE t.election_id = $election
