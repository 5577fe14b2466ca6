-- The latest protocol of each precinct among those recorded after $since, in the columns of proj_precinct_results.
SELECT election_id, precinct_id, region_id, protocol_version, position, registered_voters,
       ballots_issued, ballots_cast, invalid_ballots, against_all
FROM protocol_facts WHERE position > $since
QUALIFY row_number() OVER (PARTITION BY election_id, precinct_id ORDER BY position DESC) = 1
