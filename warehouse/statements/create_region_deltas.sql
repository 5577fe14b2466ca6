-- _region_deltas: what the touched precincts add to (and take from) each region's running totals.
CREATE OR REPLACE TEMP TABLE _region_deltas (
    election_id VARCHAR, region_id VARCHAR, reported BIGINT, annulled BIGINT, counted BIGINT,
    pending BIGINT, registered_counted BIGINT, ballots_cast BIGINT, invalid_ballots BIGINT,
    against_all BIGINT
)
