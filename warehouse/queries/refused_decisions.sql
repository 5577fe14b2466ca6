-- The rows of the decided file (_decided) that are refused (annulled precinct, conflict, stale version), in row order.
SELECT row, precinct_id, version, max_version, decision
FROM _decided
WHERE decision NOT IN ('duplicate', 'amended', 'reported')
ORDER BY row
