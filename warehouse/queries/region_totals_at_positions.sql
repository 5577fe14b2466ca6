-- Each region's precinct counts and figures (published_results.TOTAL_FIELDS) at every log position of $positions, counted from the log in one pass (region_totals_as_of.sql's figures, for any number of positions at once): a protocol version counts from its position until the precinct's next version or annulment.
-- Positions are numbered 0..K-1 in order; an event at log position x reaches those numbered from
-- "since" = how many of them lie before x. Each span adds its amount from its since (inclusive) to
-- its until (exclusive, NULL: never ends), so a figure at number i is the sum of the changes up to i.
WITH positions AS (
    SELECT as_of, row_number() OVER (ORDER BY as_of) - 1 AS i FROM (SELECT DISTINCT unnest($positions) AS as_of)
), versions AS (
    SELECT v.precinct_id, v.position, v.ballots_cast, v.invalid_ballots, v.against_all,
           coalesce(p.i + 1, 0) AS since
    FROM protocol_facts v ASOF LEFT JOIN positions p ON v.position > p.as_of
    WHERE v.election_id = $election
), annulled AS (
    SELECT a.precinct_id, coalesce(p.i + 1, 0) AS since
    FROM (SELECT precinct_id, min(position) AS position FROM stg_annulments
          WHERE election_id = $election GROUP BY precinct_id) a
    ASOF LEFT JOIN positions p ON a.position > p.as_of
), declared AS (
    SELECT d.precinct_id, d.region_id, d.registered_voters, r.since AS reported, a.since AS annulled
    FROM proj_precincts d
    LEFT JOIN (SELECT precinct_id, min(since) AS since FROM versions GROUP BY precinct_id) r USING (precinct_id)
    LEFT JOIN annulled a USING (precinct_id)
    WHERE d.election_id = $election
), spans AS (
    SELECT region_id, 0 AS since, NULL AS until, 1 AS precincts_expected, registered_voters FROM declared
    UNION ALL BY NAME
    SELECT region_id, reported AS since, NULL AS until, 1 AS precincts_reported FROM declared
    UNION ALL BY NAME
    SELECT region_id, annulled AS since, NULL AS until, 1 AS precincts_annulled FROM declared
    UNION ALL BY NAME
    SELECT region_id, 0 AS since, least(reported, annulled) AS until, 1 AS precincts_pending FROM declared
    UNION ALL BY NAME
    SELECT region_id, reported AS since, annulled AS until, registered_voters AS registered_voters_counted
    FROM declared
    UNION ALL BY NAME
    -- the version in force until the next one (lead) or the precinct's annulment
    SELECT d.region_id, v.since,
           least(lead(v.since) OVER (PARTITION BY v.precinct_id ORDER BY v.position), d.annulled) AS until,
           v.ballots_cast, v.invalid_ballots, v.against_all
    FROM declared d JOIN versions v USING (precinct_id)
), changes AS (
    SELECT region_id, i,
           sum(precincts_expected) AS precincts_expected, sum(precincts_reported) AS precincts_reported,
           sum(precincts_annulled) AS precincts_annulled, sum(precincts_pending) AS precincts_pending,
           sum(registered_voters) AS registered_voters,
           sum(registered_voters_counted) AS registered_voters_counted, sum(ballots_cast) AS ballots_cast,
           sum(invalid_ballots) AS invalid_ballots, sum(against_all) AS against_all
    FROM (
        SELECT region_id, since AS i, COLUMNS(* EXCLUDE (region_id, since, until)) FROM spans
        WHERE since IS NOT NULL AND (until IS NULL OR since < until)
        UNION ALL
        SELECT region_id, until AS i, -COLUMNS(* EXCLUDE (region_id, since, until)) FROM spans
        WHERE since IS NOT NULL AND since < until
    )
    GROUP BY region_id, i
)
SELECT p.as_of, g.region_id, g.name,
       coalesce(sum(c.precincts_expected) OVER w, 0),
       coalesce(sum(c.precincts_reported) OVER w, 0),
       coalesce(sum(c.precincts_annulled) OVER w, 0),
       coalesce(sum(c.precincts_pending) OVER w, 0),
       coalesce(sum(c.registered_voters) OVER w, 0),
       coalesce(sum(c.registered_voters_counted) OVER w, 0),
       coalesce(sum(c.ballots_cast) OVER w, 0),
       coalesce(sum(c.invalid_ballots) OVER w, 0),
       coalesce(sum(c.against_all) OVER w, 0)
FROM proj_regions g CROSS JOIN positions p
LEFT JOIN changes c ON c.region_id = g.region_id AND c.i = p.i
WHERE g.election_id = $election
WINDOW w AS (PARTITION BY g.region_id ORDER BY p.i)
ORDER BY p.as_of, g.name, g.region_id
