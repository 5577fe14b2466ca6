-- Recount the county totals of the contests and counties in _oe_touched into proj_oe_county_totals.
INSERT INTO proj_oe_county_totals
SELECT r.election_id, r.office, r.district, r.county, r.party, r.candidate,
       sum(r.votes)::BIGINT, count(DISTINCT r.precinct)::INTEGER
FROM oe_results r JOIN _oe_touched USING (election_id, office, district, county)
GROUP BY ALL
