-- verify: the first row (in the order of all its columns) that the warehouse holds more often than the rebuild ($live) or the rebuild more often than the warehouse (not $live), of verify_projection_differences.
SELECT * EXCLUDE (verify_surplus)
FROM verify_projection_differences
WHERE (verify_surplus > 0) = $live
ORDER BY ALL
LIMIT 1
