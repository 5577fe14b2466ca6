-- The first position that has figures (protocol, precinct or OpenElections rows) but no event.
SELECT min(position)
FROM (SELECT position FROM protocol_facts
      UNION ALL SELECT position FROM protocol_votes
      UNION ALL SELECT position FROM declared_precincts
      UNION ALL SELECT position FROM oe_results
      UNION ALL SELECT position FROM oe_pseudo_rows) f
WHERE position NOT IN (SELECT position FROM events)
