-- The rows of the decided files (_decided) that are refused (annulled precinct, conflict, stale version), in file and row order.
SELECT file_no, row, precinct_id, version, max_version, decision
FROM _decided
WHERE decision NOT IN ('duplicate', 'amended', 'reported')
ORDER BY file_no, row
