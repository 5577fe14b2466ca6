-- Marts: the tables people query. Built on the staged views and the projections (proj_*), never on
-- the payload JSON. Percentages are DECIMAL(7, 2) from pct(), exact; seat arithmetic stays in Python.

CREATE OR REPLACE VIEW precinct_results AS
SELECT p.election_id,
       p.precinct_id,
       p.region_id,
       g.name AS region_name,
       p.registered_voters,
       r.precinct_id IS NOT NULL AS reported,
       a.precinct_id IS NOT NULL AS annulled,
       r.precinct_id IS NOT NULL AND a.precinct_id IS NULL AS counted,
       r.protocol_version,
       r.protocol_position,
       r.ballots_issued,
       r.ballots_cast,
       r.invalid_ballots,
       r.against_all,
       pct(r.ballots_cast, p.registered_voters) AS turnout_pct,
       a.reason AS annulment_reason
FROM proj_precincts p
LEFT JOIN proj_regions g USING (election_id, region_id)
LEFT JOIN proj_precinct_results r USING (election_id, precinct_id)
LEFT JOIN proj_annulments a USING (election_id, precinct_id);
COMMENT ON VIEW precinct_results IS 'Every declared precinct with its protocol in force (if reported) and whether it is annulled.';

CREATE OR REPLACE VIEW precinct_list_votes AS
SELECT r.election_id,
       r.precinct_id,
       r.region_id,
       v.list_id,
       l.name AS list_name,
       l.ballot_order,
       v.votes,
       a.precinct_id IS NOT NULL AS annulled
FROM proj_precinct_results r
JOIN protocol_votes v ON v.position = r.protocol_position
JOIN proj_lists l ON l.election_id = r.election_id AND l.list_id = v.list_id
LEFT JOIN proj_annulments a ON a.election_id = r.election_id AND a.precinct_id = r.precinct_id;
COMMENT ON VIEW precinct_list_votes IS 'Votes per list of each reported precinct''s protocol in force.';

-- From the running totals (proj_region_totals), kept by deltas: no scan of a million precincts.
CREATE OR REPLACE VIEW region_totals AS
SELECT g.election_id,
       g.region_id,
       g.name AS region_name,
       t.precincts_expected,
       t.precincts_reported,
       t.precincts_annulled,
       t.precincts_counted,
       t.precincts_pending,
       t.registered_voters,
       t.registered_voters_counted,
       t.ballots_cast,
       t.invalid_ballots,
       t.against_all,
       pct(t.ballots_cast, t.registered_voters_counted) AS turnout_pct
FROM proj_regions g
JOIN proj_region_totals t USING (election_id, region_id);
COMMENT ON VIEW region_totals IS 'Per region: precincts expected/reported/annulled and the ballots of counted precincts.';

CREATE OR REPLACE VIEW region_list_votes AS
SELECT t.election_id,
       t.region_id,
       t.region_name,
       l.list_id,
       l.name AS list_name,
       l.ballot_order,
       coalesce(v.votes, 0) AS votes,
       pct(coalesce(v.votes, 0), t.ballots_cast) AS share_of_ballots_pct
FROM region_totals t
JOIN proj_lists l USING (election_id)
LEFT JOIN proj_region_list_votes v USING (election_id, region_id, list_id);
COMMENT ON VIEW region_list_votes IS 'Per region and list: votes of counted precincts and their share of ballots cast.';

CREATE OR REPLACE VIEW national_totals AS
SELECT e.election_id,
       e.name AS election_name,
       e.rule_profile,
       coalesce(sum(t.precincts_expected), 0)::BIGINT AS precincts_expected,
       coalesce(sum(t.precincts_reported), 0)::BIGINT AS precincts_reported,
       coalesce(sum(t.precincts_annulled), 0)::BIGINT AS precincts_annulled,
       coalesce(sum(t.precincts_counted), 0)::BIGINT AS precincts_counted,
       coalesce(sum(t.precincts_pending), 0)::BIGINT AS precincts_pending,
       coalesce(sum(t.registered_voters), 0)::BIGINT AS registered_voters,
       coalesce(sum(t.registered_voters_counted), 0)::BIGINT AS registered_voters_counted,
       coalesce(sum(t.ballots_cast), 0)::BIGINT AS ballots_cast,
       coalesce(sum(t.invalid_ballots), 0)::BIGINT AS invalid_ballots,
       coalesce(sum(t.against_all), 0)::BIGINT AS against_all,
       pct(sum(t.ballots_cast), sum(t.registered_voters_counted))
           AS turnout_pct
FROM proj_elections e
LEFT JOIN region_totals t USING (election_id)
GROUP BY ALL;
COMMENT ON VIEW national_totals IS 'Per election: precincts expected/reported/annulled and the national ballots of counted precincts.';

CREATE OR REPLACE VIEW national_list_votes AS
SELECT n.election_id,
       l.list_id,
       l.name AS list_name,
       l.ballot_order,
       coalesce(sum(r.votes), 0)::BIGINT AS votes,
       pct(coalesce(sum(r.votes), 0), any_value(n.ballots_cast))
           AS share_of_ballots_pct
FROM national_totals n
JOIN proj_lists l USING (election_id)
LEFT JOIN region_list_votes r USING (election_id, list_id)
GROUP BY ALL;
COMMENT ON VIEW national_list_votes IS 'Per election and list: national votes of counted precincts and their share of ballots cast.';

CREATE OR REPLACE VIEW reporting_progress AS
SELECT election_id,
       'region' AS level,
       region_id,
       region_name,
       precincts_expected,
       precincts_reported,
       precincts_annulled,
       precincts_pending,
       pct(precincts_reported, precincts_expected) AS reported_pct,
       registered_voters,
       registered_voters_counted,
       pct(registered_voters_counted, registered_voters)
           AS registered_covered_pct
FROM region_totals
UNION ALL
SELECT election_id, 'national', NULL, NULL,
       precincts_expected,
       precincts_reported,
       precincts_annulled,
       precincts_pending,
       pct(precincts_reported, precincts_expected),
       registered_voters,
       registered_voters_counted,
       pct(registered_voters_counted, registered_voters)
FROM national_totals;
COMMENT ON VIEW reporting_progress IS 'Precincts reported of expected and share of registered voters covered, per region and national.';
