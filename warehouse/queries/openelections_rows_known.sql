-- The incoming counted rows (the frame oe_incoming) already reported for the election: whether with the same figures, and where first.
SELECT i.line,
       r.votes IS NOT DISTINCT FROM i.votes
           AND r.early_voting IS NOT DISTINCT FROM i.early_voting
           AND r.election_day IS NOT DISTINCT FROM i.election_day
           AND r.absentee IS NOT DISTINCT FROM i.absentee
           AND r.provisional IS NOT DISTINCT FROM i.provisional
           AND r.other_modes IS NOT DISTINCT FROM i.other_modes AS same,
       r.votes, r.line, e.payload->>'$.file_name'
FROM oe_incoming i
JOIN oe_results r
  ON r.election_id = ? AND r.county = i.county AND r.precinct = i.precinct AND r.office = i.office
 AND r.district = i.district AND r.party = i.party AND r.candidate = i.candidate
JOIN events e ON e.position = r.position
