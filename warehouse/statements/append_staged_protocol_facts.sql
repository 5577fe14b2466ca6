-- The staged protocols' figures into protocol_facts, under their positions.
INSERT INTO protocol_facts
SELECT position, $election, precinct_id, region_id, protocol_version, registered_voters,
       ballots_issued, ballots_cast, invalid_ballots, against_all
FROM _staged_protocols
ORDER BY position
