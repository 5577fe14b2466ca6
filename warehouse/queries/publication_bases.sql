-- The position every publication is based on, with its election (verify counts them all in one pass).
SELECT election_id, based_on_position FROM proj_publications
