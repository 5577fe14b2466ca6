-- The figures of each protocol in force staged in _reported (its votes per list are in protocol_votes).
SELECT position, precinct_id, protocol_version,
       registered_voters, ballots_issued, ballots_cast, invalid_ballots, against_all
FROM _reported
