-- Each region's precinct counts and ballot figures as of a log position, counted from the log (a publication of past results).
WITH declared AS (
    SELECT precinct_id, region_id, registered_voters FROM proj_precincts WHERE election_id = $election
), reported AS (
    SELECT * FROM precinct_results_as_of($election, $as_of)
), annulled AS (
    SELECT DISTINCT precinct_id FROM stg_annulments WHERE election_id = $election AND position <= $as_of
), p AS (
    SELECT d.region_id, d.registered_voters,
           r.precinct_id IS NOT NULL AS reported, a.precinct_id IS NOT NULL AS annulled,
           r.ballots_cast, r.invalid_ballots, r.against_all
    FROM declared d LEFT JOIN reported r USING (precinct_id) LEFT JOIN annulled a USING (precinct_id)
)
SELECT g.region_id, g.name,
       count(p.region_id),
       count(*) FILTER (WHERE p.reported),
       count(*) FILTER (WHERE p.annulled),
       count(*) FILTER (WHERE NOT p.reported AND NOT p.annulled),
       coalesce(sum(p.registered_voters), 0),
       coalesce(sum(p.registered_voters) FILTER (WHERE p.reported AND NOT p.annulled), 0),
       coalesce(sum(p.ballots_cast) FILTER (WHERE NOT p.annulled), 0),
       coalesce(sum(p.invalid_ballots) FILTER (WHERE NOT p.annulled), 0),
       coalesce(sum(p.against_all) FILTER (WHERE NOT p.annulled), 0)
FROM proj_regions g LEFT JOIN p USING (region_id)
WHERE g.election_id = $election
GROUP BY g.region_id, g.name
ORDER BY g.name, g.region_id
