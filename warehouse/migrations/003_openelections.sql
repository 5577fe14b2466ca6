-- OpenElections precinct files (`elections ingest --format openelections`). The figures of a
-- ContestResultsReported event live in typed fact tables keyed by the event's position, covered by
-- its hash like protocol_facts; the projections below are derived from those events only.

-- Counted rows: votes of one candidate in one precinct and contest (office + district as spelled).
CREATE TABLE oe_results (
    position      BIGINT NOT NULL,
    line          INTEGER NOT NULL,          -- row of the received file (1 = header)
    election_id   VARCHAR NOT NULL,
    county        VARCHAR NOT NULL,
    precinct      VARCHAR NOT NULL,
    office        VARCHAR NOT NULL,
    district      VARCHAR NOT NULL,          -- '' when the office has no districts
    party         VARCHAR NOT NULL,
    candidate     VARCHAR NOT NULL,
    votes         BIGINT NOT NULL,
    early_voting  BIGINT,                    -- vote modes: NULL when the file has no such column
    election_day  BIGINT,                    -- or the cell was empty
    absentee      BIGINT,
    provisional   BIGINT,
    other_modes   VARCHAR                    -- any other vote-mode columns, canonical JSON; NULL if none
);

-- Pseudo-rows (registered voters, ballots cast, over/under votes, contest and county totals):
-- kept as received, never counted.
CREATE TABLE oe_pseudo_rows (
    position     BIGINT NOT NULL,
    line         INTEGER NOT NULL,
    election_id  VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL,
    county       VARCHAR NOT NULL,
    precinct     VARCHAR NOT NULL,
    office       VARCHAR NOT NULL,
    district     VARCHAR NOT NULL,
    label        VARCHAR NOT NULL,
    votes        BIGINT                      -- NULL when the cell was empty or not a number
);

-- Projections (ContestsDeclared, ContestResultsReported).
CREATE TABLE proj_oe_elections (
    election_id        VARCHAR PRIMARY KEY,
    state              VARCHAR,              -- from the file name (YYYYMMDD__st__...), when it follows it
    election_date      VARCHAR,
    source_file        VARCHAR NOT NULL,     -- the file the election was declared from
    declared_position  BIGINT NOT NULL
);

CREATE TABLE proj_oe_counties (
    election_id        VARCHAR NOT NULL,
    county             VARCHAR NOT NULL,
    declared_position  BIGINT NOT NULL,
    PRIMARY KEY (election_id, county)
);

CREATE TABLE proj_oe_contests (
    election_id        VARCHAR NOT NULL,
    office             VARCHAR NOT NULL,
    district           VARCHAR NOT NULL,
    declared_position  BIGINT NOT NULL,
    PRIMARY KEY (election_id, office, district)
);

-- Votes by contest, county and candidate over the counted rows; recomputed for the counties and
-- contests each event touches (no primary key: delete-and-insert within one transaction).
CREATE TABLE proj_oe_county_totals (
    election_id  VARCHAR NOT NULL,
    office       VARCHAR NOT NULL,
    district     VARCHAR NOT NULL,
    county       VARCHAR NOT NULL,
    party        VARCHAR NOT NULL,
    candidate    VARCHAR NOT NULL,
    votes        BIGINT NOT NULL,
    precincts    INTEGER NOT NULL
);

-- Office spellings that look alike across the election's files, as the latest results event found
-- them (one row per spelling; `variant_group` numbers the groups). Reported, never merged.
CREATE TABLE proj_oe_office_variants (
    election_id    VARCHAR NOT NULL,
    variant_group  INTEGER NOT NULL,
    likeness       VARCHAR NOT NULL,
    spelling       VARCHAR NOT NULL,
    row_count      BIGINT NOT NULL,
    position       BIGINT NOT NULL
);
