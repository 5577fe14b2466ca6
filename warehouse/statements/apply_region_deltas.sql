-- Move each region's running totals in proj_region_totals by the sum of its _region_deltas.
UPDATE proj_region_totals t SET
    precincts_reported = t.precincts_reported + d.reported,
    precincts_annulled = t.precincts_annulled + d.annulled,
    precincts_counted = t.precincts_counted + d.counted,
    precincts_pending = t.precincts_pending + d.pending,
    registered_voters_counted = t.registered_voters_counted + d.registered_counted,
    ballots_cast = t.ballots_cast + d.ballots_cast,
    invalid_ballots = t.invalid_ballots + d.invalid_ballots,
    against_all = t.against_all + d.against_all
FROM (
    SELECT election_id, region_id, sum(reported) AS reported, sum(annulled) AS annulled,
           sum(counted) AS counted, sum(pending) AS pending,
           sum(registered_counted) AS registered_counted, sum(ballots_cast) AS ballots_cast,
           sum(invalid_ballots) AS invalid_ballots, sum(against_all) AS against_all
    FROM _region_deltas GROUP BY election_id, region_id
) d
WHERE t.election_id = d.election_id AND t.region_id = d.region_id
