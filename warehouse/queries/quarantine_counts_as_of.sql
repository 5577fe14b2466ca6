-- Quarantined rows and files of one election up to a log position, by rule (results API).
SELECT rule,
       count(*) AS entries,
       count(*) FILTER (WHERE row_number IS NULL) AS whole_files,
       count(DISTINCT file_name) AS files
FROM proj_quarantine
WHERE election_id = $election AND position <= $as_of
GROUP BY rule
ORDER BY rule
