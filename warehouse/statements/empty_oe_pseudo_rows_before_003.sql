-- An empty TEMP oe_pseudo_rows for verifying a warehouse last written before migration 003 (no OpenElections figures).
CREATE TEMP TABLE IF NOT EXISTS oe_pseudo_rows AS
SELECT * FROM (VALUES (0, 0, '', '', '', '', '', '', '', 0))
    t(position, line, election_id, kind, county, precinct, office, district, label, votes)
LIMIT 0
