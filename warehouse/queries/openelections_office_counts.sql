-- How many stored rows and pseudo-rows of an OpenElections election name each office spelling.
SELECT office, count(*)
FROM (SELECT office FROM oe_results WHERE election_id = $e
      UNION ALL SELECT office FROM oe_pseudo_rows WHERE election_id = $e)
GROUP BY office
