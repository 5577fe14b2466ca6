-- Take out of proj_precinct_results the protocols in force that a newer one in _latest_protocols replaces.
DELETE FROM proj_precinct_results r USING _latest_protocols l
WHERE r.election_id = l.election_id AND r.precinct_id = l.precinct_id
