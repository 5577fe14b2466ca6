-- OpenElections files (`elections ingest --format openelections`): a contest is office + district as
-- spelled in the file (variants are reported in oe_office_variants, never merged); a choice is a
-- candidate with party; counties are the regions. Only counted rows make totals; pseudo-rows and
-- quarantined rows never do.

CREATE OR REPLACE VIEW stg_oe_results AS
SELECT r.election_id,
       r.county,
       r.precinct,
       r.office,
       r.district,
       r.party,
       r.candidate,
       r.votes,
       r.early_voting,
       r.election_day,
       r.absentee,
       r.provisional,
       CAST(r.other_modes AS JSON) AS other_modes,
       r.position,
       e.payload->>'$.file_name' AS file_name,
       r.line AS row_number
FROM oe_results r
JOIN events e USING (position);
COMMENT ON VIEW stg_oe_results IS 'Every counted OpenElections row: votes of one candidate in one precinct and contest, with vote modes, file and row.';

CREATE OR REPLACE VIEW stg_oe_pseudo_rows AS
SELECT p.election_id,
       p.kind,
       p.county,
       p.precinct,
       p.office,
       p.district,
       p.label,
       p.votes,
       p.position,
       e.payload->>'$.file_name' AS file_name,
       p.line AS row_number
FROM oe_pseudo_rows p
JOIN events e USING (position);
COMMENT ON VIEW stg_oe_pseudo_rows IS 'OpenElections pseudo-rows kept apart and never counted: registered voters, ballots cast, over/under votes, contest and county totals.';

CREATE OR REPLACE VIEW oe_county_totals AS
SELECT election_id,
       office,
       district,
       county,
       party,
       candidate,
       votes,
       precincts,
       pct(votes, sum(votes) OVER (PARTITION BY election_id, office, district, county)) AS share_pct,
       rank() OVER (PARTITION BY election_id, office, district, county ORDER BY votes DESC) AS place
FROM proj_oe_county_totals;
COMMENT ON VIEW oe_county_totals IS 'Votes per contest, county and candidate over counted rows; share of the county''s contest votes and place (equal votes share a place).';

CREATE OR REPLACE VIEW oe_state_totals AS
WITH summed AS (
    SELECT election_id, office, district, party, candidate,
           sum(votes)::BIGINT AS votes,
           count(*)::INTEGER AS counties,
           sum(precincts)::INTEGER AS precincts
    FROM proj_oe_county_totals
    GROUP BY ALL
)
SELECT election_id,
       office,
       district,
       party,
       candidate,
       votes,
       counties,
       precincts,
       pct(votes, sum(votes) OVER (PARTITION BY election_id, office, district)) AS share_pct,
       rank() OVER (PARTITION BY election_id, office, district ORDER BY votes DESC) AS place
FROM summed;
COMMENT ON VIEW oe_state_totals IS 'Votes per contest and candidate over the whole file(s) of an election (the state); place 1 = plurality.';

CREATE OR REPLACE VIEW oe_contest_winners AS
WITH ranked AS (
    SELECT *,
           sum(votes) OVER (PARTITION BY election_id, office, district) AS total_votes,
           count(*) FILTER (WHERE place = 1) OVER (PARTITION BY election_id, office, district) AS first_places,
           -- the next candidate's votes: equal to the winner's in a tie, so the margin is 0
           nth_value(votes, 2) OVER (PARTITION BY election_id, office, district ORDER BY votes DESC
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS runner_up_votes
    FROM oe_state_totals
)
SELECT election_id,
       office,
       district,
       party,
       candidate,
       votes,
       total_votes::BIGINT AS total_votes,
       share_pct,
       first_places > 1 AS tied,
       (votes - coalesce(runner_up_votes, 0))::BIGINT AS margin
FROM ranked
WHERE place = 1 AND votes > 0;
COMMENT ON VIEW oe_contest_winners IS 'Plurality winner of each contest (office + district as spelled); a tie for first place shows every tied candidate with tied = true and margin 0.';

CREATE OR REPLACE VIEW oe_office_variants AS
SELECT election_id,
       variant_group,
       likeness,
       spelling,
       row_count,
       count(*) OVER (PARTITION BY election_id, variant_group) AS spellings_in_group,
       position AS found_at_position
FROM proj_oe_office_variants;
COMMENT ON VIEW oe_office_variants IS 'Office spellings that look alike (same letters, or one or two edits apart), with their row counts: reported for a person to decide, never merged.';

CREATE OR REPLACE VIEW oe_elections AS
SELECT e.election_id,
       e.state,
       e.election_date,
       e.source_file,
       e.declared_position,
       (SELECT count(*) FROM proj_oe_counties c WHERE c.election_id = e.election_id) AS counties,
       (SELECT count(*) FROM proj_oe_contests c WHERE c.election_id = e.election_id) AS contests,
       (SELECT count(*) FROM oe_results r WHERE r.election_id = e.election_id) AS counted_rows,
       (SELECT count(*) FROM oe_pseudo_rows p WHERE p.election_id = e.election_id) AS pseudo_rows,
       (SELECT count(*) FROM proj_quarantine q WHERE q.election_id = e.election_id) AS quarantined
FROM proj_oe_elections e;
COMMENT ON VIEW oe_elections IS 'Elections declared from OpenElections files: where from, and how many counties, contests, counted, pseudo and quarantined rows.';
