-- Running totals: per region and per region and list, the figures of the protocols in force, kept
-- by deltas (a new protocol version subtracts the superseded one and adds itself; an annulment
-- subtracts the precinct), so that totals and publications cost what a batch changes, not what the
-- store holds. Rows exist for every declared region (and list) from the declaration on, zeros
-- included, so that a rebuild and the deltas give the same rows.

-- Precinct figures as publication_files._AREA_SQL counts them: declared precincts by their
-- declared region; "reported" includes annulled precincts that had reported; ballots and
-- registered voters counted are those of reported precincts not annulled.
CREATE TABLE proj_region_totals (
    election_id                VARCHAR NOT NULL,
    region_id                  VARCHAR NOT NULL,
    precincts_expected         BIGINT NOT NULL,
    precincts_reported         BIGINT NOT NULL,
    precincts_annulled         BIGINT NOT NULL,
    precincts_counted          BIGINT NOT NULL,   -- reported and not annulled
    precincts_pending          BIGINT NOT NULL,   -- neither reported nor annulled
    registered_voters          BIGINT NOT NULL,
    registered_voters_counted  BIGINT NOT NULL,
    ballots_cast               BIGINT NOT NULL,
    invalid_ballots            BIGINT NOT NULL,
    against_all                BIGINT NOT NULL
    -- no primary key: only non-key columns are updated, but a rebuild empties and refills it
);

-- Votes per list of the counted precincts (reported, not annulled), by the protocol's region.
CREATE TABLE proj_region_list_votes (
    election_id  VARCHAR NOT NULL,
    region_id    VARCHAR NOT NULL,
    list_id      VARCHAR NOT NULL,
    votes        BIGINT NOT NULL
);

-- What a publication's history needs, fixed when the publication is projected: the number of
-- precincts that had reported by the position it is based on (annulled ones included).
CREATE TABLE proj_publication_progress (
    publication_id      VARCHAR NOT NULL,
    election_id         VARCHAR NOT NULL,
    based_on_position   BIGINT NOT NULL,
    precincts_reported  BIGINT NOT NULL
);

-- An existing warehouse: the totals of the projections as they stand at their checkpoint.
INSERT INTO proj_region_totals
WITH p AS (
    SELECT d.election_id, d.region_id, d.registered_voters,
           r.precinct_id IS NOT NULL AS reported, a.precinct_id IS NOT NULL AS annulled,
           r.ballots_cast, r.invalid_ballots, r.against_all
    FROM proj_precincts d
    LEFT JOIN proj_precinct_results r USING (election_id, precinct_id)
    LEFT JOIN proj_annulments a USING (election_id, precinct_id)
)
SELECT g.election_id, g.region_id,
       count(p.region_id),
       count(*) FILTER (WHERE p.reported),
       count(*) FILTER (WHERE p.annulled),
       count(*) FILTER (WHERE p.reported AND NOT p.annulled),
       count(*) FILTER (WHERE NOT p.reported AND NOT p.annulled),
       coalesce(sum(p.registered_voters), 0),
       coalesce(sum(p.registered_voters) FILTER (WHERE p.reported AND NOT p.annulled), 0),
       coalesce(sum(p.ballots_cast) FILTER (WHERE NOT p.annulled), 0),
       coalesce(sum(p.invalid_ballots) FILTER (WHERE NOT p.annulled), 0),
       coalesce(sum(p.against_all) FILTER (WHERE NOT p.annulled), 0)
FROM proj_regions g LEFT JOIN p USING (election_id, region_id)
GROUP BY g.election_id, g.region_id;

INSERT INTO proj_region_list_votes
WITH counted AS (
    SELECT r.election_id, r.region_id, v.list_id, sum(v.votes) AS votes
    FROM proj_precinct_results r
    JOIN protocol_votes v ON v.position = r.protocol_position
    WHERE NOT EXISTS (SELECT 1 FROM proj_annulments a
                      WHERE a.election_id = r.election_id AND a.precinct_id = r.precinct_id)
    GROUP BY ALL
)
SELECT g.election_id, g.region_id, l.list_id, coalesce(c.votes, 0)
FROM proj_regions g
JOIN proj_lists l USING (election_id)
LEFT JOIN counted c USING (election_id, region_id, list_id);

INSERT INTO proj_publication_progress
SELECT p.publication_id, p.election_id, p.based_on_position,
       (SELECT count(*) FROM (
            SELECT f.precinct_id FROM protocol_facts f
            WHERE f.election_id = p.election_id GROUP BY f.precinct_id
            HAVING min(f.position) <= p.based_on_position))
FROM proj_publications p;

-- The votes of the protocols in force were a copy of protocol_votes (20M rows at a million
-- precincts); they are now read through the positions of proj_precinct_results.
DROP TABLE proj_precinct_votes;
CREATE VIEW proj_precinct_votes AS
SELECT r.election_id, r.precinct_id, v.list_id, v.votes
FROM proj_precinct_results r
JOIN protocol_votes v ON v.position = r.protocol_position;
COMMENT ON VIEW proj_precinct_votes IS 'Votes per list of each reported precinct''s protocol in force (annulled precincts included).';
