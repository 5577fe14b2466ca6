-- _oe_touched: the contests and counties of the OpenElections rows recorded after $since, whose totals are recounted.
CREATE OR REPLACE TEMP TABLE _oe_touched AS
SELECT DISTINCT election_id, office, district, county
FROM oe_results WHERE position > $since
