-- Votes per region and list of the protocols in force (not annulled) at every log position of $positions, counted from the log in one pass (region_list_votes_as_of.sql's votes, for any number of positions at once): a protocol version counts from its position until the precinct's next version or annulment.
-- Numbering and spans as in region_totals_at_positions.sql; a protocol counts in its own region_id.
WITH positions AS (
    SELECT as_of, row_number() OVER (ORDER BY as_of) - 1 AS i FROM (SELECT DISTINCT unnest($positions) AS as_of)
), versions AS (
    SELECT v.precinct_id, v.region_id, v.position, coalesce(p.i + 1, 0) AS since
    FROM protocol_facts v ASOF LEFT JOIN positions p ON v.position > p.as_of
    WHERE v.election_id = $election
), annulled AS (
    SELECT a.precinct_id, coalesce(p.i + 1, 0) AS since
    FROM (SELECT precinct_id, min(position) AS position FROM stg_annulments
          WHERE election_id = $election GROUP BY precinct_id) a
    ASOF LEFT JOIN positions p ON a.position > p.as_of
), spans AS (
    SELECT v.position, v.region_id, v.since,
           least(lead(v.since) OVER (PARTITION BY v.precinct_id ORDER BY v.position), a.since) AS until
    FROM versions v LEFT JOIN annulled a USING (precinct_id)
), span_votes AS (
    SELECT s.region_id, t.list_id, s.since, s.until, sum(t.votes) AS votes
    FROM spans s JOIN protocol_votes t USING (position)
    WHERE s.until IS NULL OR s.since < s.until
    GROUP BY ALL
), changes AS (
    SELECT region_id, list_id, i, sum(votes) AS votes
    FROM (SELECT region_id, list_id, since AS i, votes FROM span_votes
          UNION ALL
          SELECT region_id, list_id, until AS i, -votes FROM span_votes WHERE until IS NOT NULL)
    GROUP BY ALL
)
SELECT p.as_of, k.region_id, k.list_id, coalesce(sum(c.votes) OVER w, 0) AS votes
FROM (SELECT DISTINCT region_id, list_id FROM span_votes) k CROSS JOIN positions p
LEFT JOIN changes c ON c.region_id = k.region_id AND c.list_id = k.list_id AND c.i = p.i
WINDOW w AS (PARTITION BY k.region_id, k.list_id ORDER BY p.i)
