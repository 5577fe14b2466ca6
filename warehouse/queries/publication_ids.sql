-- Every publication's id, in log order.
SELECT publication_id FROM proj_publications ORDER BY position
