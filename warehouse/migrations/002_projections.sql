-- Projections: derived from events only, maintained incrementally, rebuildable from zero.

CREATE TABLE projection_checkpoints (
    projection  VARCHAR PRIMARY KEY,
    position    BIGINT NOT NULL
);

CREATE TABLE proj_elections (
    election_id            VARCHAR PRIMARY KEY,
    name                   VARCHAR NOT NULL,
    election_date          VARCHAR NOT NULL,
    rule_profile           VARCHAR NOT NULL,
    against_all_on_ballot  BOOLEAN NOT NULL,
    synthetic              BOOLEAN NOT NULL,
    declared_position      BIGINT NOT NULL
);

CREATE TABLE proj_lists (
    election_id   VARCHAR NOT NULL,
    list_id       VARCHAR NOT NULL,
    name          VARCHAR NOT NULL,
    ballot_order  INTEGER NOT NULL,
    color         VARCHAR,
    candidates    INTEGER,
    PRIMARY KEY (election_id, list_id)
);

CREATE TABLE proj_regions (
    election_id       VARCHAR NOT NULL,
    region_id         VARCHAR NOT NULL,
    name              VARCHAR NOT NULL,
    utc_offset_hours  INTEGER,
    PRIMARY KEY (election_id, region_id)
);

CREATE TABLE proj_precincts (
    election_id        VARCHAR NOT NULL,
    precinct_id        VARCHAR NOT NULL,
    region_id          VARCHAR NOT NULL,
    registered_voters  BIGINT NOT NULL,
    PRIMARY KEY (election_id, precinct_id)
);

-- The protocol currently in force for each precinct (the latest version). Annulled precincts stay
-- here (their protocol is history) and are excluded from totals through proj_annulments.
CREATE TABLE proj_precinct_results (
    election_id        VARCHAR NOT NULL,
    precinct_id        VARCHAR NOT NULL,
    region_id          VARCHAR NOT NULL,
    protocol_version   INTEGER NOT NULL,
    protocol_position  BIGINT NOT NULL,
    registered_voters  BIGINT NOT NULL,
    ballots_issued     BIGINT NOT NULL,
    ballots_cast       BIGINT NOT NULL,
    invalid_ballots    BIGINT NOT NULL,
    against_all        BIGINT NOT NULL
    -- no primary key: rows are replaced by delete-and-insert within one transaction,
    -- which DuckDB's ART indexes do not allow on the same key.
);

CREATE TABLE proj_precinct_votes (
    election_id  VARCHAR NOT NULL,
    precinct_id  VARCHAR NOT NULL,
    list_id      VARCHAR NOT NULL,
    votes        BIGINT NOT NULL
);

CREATE TABLE proj_annulments (
    election_id  VARCHAR NOT NULL,
    precinct_id  VARCHAR NOT NULL,
    position     BIGINT NOT NULL,
    reason       VARCHAR NOT NULL,
    decided_by   VARCHAR NOT NULL,
    PRIMARY KEY (election_id, precinct_id)
);

-- Every received file and what became of it.
CREATE TABLE proj_batches (
    batch_id        VARCHAR NOT NULL,      -- sha256 of the file's bytes
    election_id     VARCHAR NOT NULL,
    position        BIGINT PRIMARY KEY,    -- a file refused whole may be received again later
    file_name       VARCHAR NOT NULL,
    file_format     VARCHAR NOT NULL,
    size_bytes      BIGINT NOT NULL,
    received_at     TIMESTAMP NOT NULL,
    rows_total      INTEGER NOT NULL,
    rows_applied    INTEGER NOT NULL,
    rows_duplicate  INTEGER NOT NULL,
    rows_quarantined INTEGER NOT NULL,
    quarantined_whole BOOLEAN NOT NULL
);

-- Non-blocking anomaly flags raised when a batch was validated (kept in its BatchReceived event).
CREATE TABLE proj_anomalies (
    election_id  VARCHAR NOT NULL,
    batch_id     VARCHAR NOT NULL,
    position     BIGINT NOT NULL,
    kind         VARCHAR NOT NULL,
    precinct_id  VARCHAR,
    file_name    VARCHAR,
    row_number   INTEGER,
    detail       VARCHAR NOT NULL
);

-- Quarantined rows and files, with their reasons (from RowQuarantined / BatchQuarantined events).
CREATE TABLE proj_quarantine (
    position     BIGINT PRIMARY KEY,
    election_id  VARCHAR NOT NULL,
    batch_id     VARCHAR NOT NULL,
    file_name    VARCHAR NOT NULL,
    row_number   INTEGER,
    column_name  VARCHAR,
    rule         VARCHAR NOT NULL,
    value        VARCHAR,
    message      VARCHAR NOT NULL,
    precinct_id  VARCHAR
);

-- The seat table of the latest allocation over the current totals (provisional until certified).
CREATE TABLE proj_seat_table (
    election_id            VARCHAR NOT NULL,
    based_on_position      BIGINT NOT NULL,
    list_id                VARCHAR NOT NULL,
    name                   VARCHAR NOT NULL,
    ballot_order           INTEGER NOT NULL,
    votes                  BIGINT NOT NULL,
    share                  VARCHAR NOT NULL,
    share_pct              VARCHAR NOT NULL,
    passed_threshold       BOOLEAN NOT NULL,
    admitted_by_guarantee  BOOLEAN NOT NULL,
    seats                  INTEGER NOT NULL,
    detail                 VARCHAR NOT NULL    -- the allocation row as canonical JSON (quota, quotient, remainder...)
);

-- Publications: each ResultsPublished / ResultsCertified event, with the seat table it published.
CREATE TABLE proj_publications (
    publication_id     VARCHAR PRIMARY KEY,
    election_id        VARCHAR NOT NULL,
    position           BIGINT NOT NULL,
    status             VARCHAR NOT NULL,     -- 'provisional' or 'certified'
    based_on_position  BIGINT NOT NULL,
    rule_profile       VARCHAR NOT NULL,
    table_sha256       VARCHAR NOT NULL,
    published_at       TIMESTAMP NOT NULL
);

CREATE TABLE proj_published_seats (
    publication_id  VARCHAR NOT NULL,
    list_id         VARCHAR NOT NULL,
    name            VARCHAR NOT NULL,
    ballot_order    INTEGER NOT NULL,
    votes           BIGINT NOT NULL,
    seats           INTEGER NOT NULL,
    PRIMARY KEY (publication_id, list_id)
);
