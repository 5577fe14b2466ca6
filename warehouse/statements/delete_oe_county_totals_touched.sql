-- Take the county totals of the contests and counties in _oe_touched out of proj_oe_county_totals, to be recounted.
DELETE FROM proj_oe_county_totals t USING _oe_touched x
WHERE t.election_id = x.election_id AND t.office = x.office AND t.district = x.district
  AND t.county = x.county
