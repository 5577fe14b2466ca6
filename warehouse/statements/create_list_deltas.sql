-- _list_deltas: what the touched precincts add to (and take from) each region's votes per list.
CREATE OR REPLACE TEMP TABLE _list_deltas (election_id VARCHAR, region_id VARCHAR, list_id VARCHAR, votes BIGINT)
