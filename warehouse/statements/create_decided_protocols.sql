-- _decided: each row of the files being decided (_batch, with file_no, one column per list id) reported, amended, a duplicate or why it is refused, against the protocols of election $election.
-- Only rows resent with a version already accepted need their votes compared ($list_count lists each): usually none.
CREATE OR REPLACE TEMP TABLE _decided AS
WITH known AS (
    SELECT f.precinct_id, max(f.protocol_version) AS max_version
    FROM protocol_facts f JOIN _batch b USING (precinct_id)
    WHERE f.election_id = $election GROUP BY f.precinct_id
), resent_votes AS (
    UNPIVOT (SELECT precinct_id, {{lists}} FROM _batch SEMI JOIN _same_version USING (precinct_id))
    ON {{lists}} INTO NAME list_id VALUE votes
), votes_differ AS (
    SELECT s.precinct_id
    FROM _same_version s JOIN protocol_votes v USING (position)
    JOIN resent_votes bv ON bv.precinct_id = s.precinct_id AND bv.list_id = v.list_id
    GROUP BY s.precinct_id
    HAVING count(*) FILTER (WHERE v.votes <> bv.votes) > 0
        OR count(*) <> $list_count
)
SELECT b.file_no, b.row, b.precinct_id, b.version, k.max_version,
       CASE
           WHEN a.precinct_id IS NOT NULL THEN 'precinct_annulled'
           WHEN s.precinct_id IS NOT NULL AND s.figures_equal AND d.precinct_id IS NULL
               THEN 'duplicate'
           WHEN s.precinct_id IS NOT NULL THEN 'conflict'
           WHEN b.version < k.max_version THEN 'stale_version'
           WHEN k.max_version IS NOT NULL THEN 'amended'
           ELSE 'reported'
       END AS decision
FROM _batch b
LEFT JOIN known k USING (precinct_id)
LEFT JOIN _same_version s USING (precinct_id)
LEFT JOIN votes_differ d USING (precinct_id)
LEFT JOIN (SELECT precinct_id FROM proj_annulments WHERE election_id = $election) a
    USING (precinct_id)
