-- The lines of incoming pseudo-rows (the frame oe_incoming_pseudo) already stored for the election with the same votes.
SELECT i.line
FROM oe_incoming_pseudo i
JOIN oe_pseudo_rows r
  ON r.election_id = ? AND r.kind = i.kind AND r.county = i.county AND r.precinct = i.precinct
 AND r.office = i.office AND r.district = i.district AND r.label = i.label
 AND r.votes IS NOT DISTINCT FROM i.votes
