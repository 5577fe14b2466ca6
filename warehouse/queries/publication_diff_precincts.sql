-- Precincts whose votes in force (annulled precincts count zero) differ between two log positions, per list: `elections diff`.
WITH a AS (
    SELECT precinct_id, list_id, CASE WHEN annulled THEN 0 ELSE votes END AS votes,
           annulled
    FROM precinct_list_votes_as_of($election, $pos_before)
), b AS (
    SELECT precinct_id, list_id, CASE WHEN annulled THEN 0 ELSE votes END AS votes,
           annulled
    FROM precinct_list_votes_as_of($election, $pos_after)
)
SELECT coalesce(b.precinct_id, a.precinct_id) AS precinct_id,
       coalesce(b.list_id, a.list_id) AS list_id,
       coalesce(a.votes, 0) AS votes_before,
       coalesce(b.votes, 0) AS votes_after,
       coalesce(b.votes, 0) - coalesce(a.votes, 0) AS votes_change,
       coalesce(b.annulled, FALSE) AS annulled_after
FROM a FULL OUTER JOIN b USING (precinct_id, list_id)
WHERE coalesce(a.votes, -1) <> coalesce(b.votes, -1)
   OR coalesce(a.annulled, FALSE) <> coalesce(b.annulled, FALSE)
ORDER BY precinct_id, list_id
