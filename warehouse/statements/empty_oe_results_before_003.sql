-- An empty TEMP oe_results for verifying a warehouse last written before migration 003 (no OpenElections figures).
CREATE TEMP TABLE IF NOT EXISTS oe_results AS
SELECT * FROM (VALUES (0, 0, '', '', '', '', '', '', '', 0, 0, 0, 0, 0, ''))
    t(position, line, election_id, county, precinct, office, district, party, candidate, votes,
      early_voting, election_day, absentee, provisional, other_modes)
LIMIT 0
