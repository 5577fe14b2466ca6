-- Votes per list that the declared precincts named by the quarantine of an election count at a log position ($as_of: their protocols in force, not annulled), quarantined by another ($until).
WITH named AS (
    SELECT DISTINCT q.precinct_id
    FROM proj_quarantine q
    JOIN proj_precincts d ON d.election_id = q.election_id AND d.precinct_id = q.precinct_id
    WHERE q.election_id = $election AND q.position <= $until
)
SELECT v.list_id, sum(v.votes)
FROM precinct_list_votes_as_of($election, $as_of) v
JOIN named USING (precinct_id)
WHERE NOT v.annulled
GROUP BY v.list_id
ORDER BY v.list_id
