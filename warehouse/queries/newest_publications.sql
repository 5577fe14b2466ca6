-- Each election's newest publication (highest log position): what the forensic_screening DAG screens.
SELECT election_id, publication_id
FROM proj_publications
QUALIFY row_number() OVER (PARTITION BY election_id ORDER BY position DESC) = 1
ORDER BY election_id
