-- The append-only event log. Rows here are never updated or deleted; every derived table is
-- rebuilt from them. Typed fact tables hold the bulky parts of events (votes, precinct lists) so
-- that projections at a million precincts never parse JSON per row.

CREATE TABLE events (
    position        BIGINT PRIMARY KEY,          -- global order; gaps allowed
    stream_id       VARCHAR NOT NULL,            -- 'election:<id>', 'precinct:<election>/<precinct>', 'batch:<sha256>'
    stream_version  INTEGER NOT NULL,            -- 1, 2, ... within the stream (optimistic concurrency)
    event_type      VARCHAR NOT NULL,
    election_id     VARCHAR NOT NULL,
    occurred_at     TIMESTAMP NOT NULL,          -- when the fact happened: the batch's receipt time (UTC)
    recorded_at     TIMESTAMP NOT NULL,          -- when this writer appended it (UTC)
    batch_id        VARCHAR,                     -- sha256 of the received file that carried it
    payload         VARCHAR NOT NULL,            -- canonical JSON of the small, non-numeric details
    prev_hash       VARCHAR NOT NULL,
    event_hash      VARCHAR NOT NULL,
    UNIQUE (stream_id, stream_version)
);

-- Figures of ProtocolReported / ProtocolAmended events, one row per event.
CREATE TABLE protocol_facts (
    position           BIGINT PRIMARY KEY,
    election_id        VARCHAR NOT NULL,
    precinct_id        VARCHAR NOT NULL,
    region_id          VARCHAR NOT NULL,
    protocol_version   INTEGER NOT NULL,
    registered_voters  BIGINT NOT NULL,
    ballots_issued     BIGINT NOT NULL,
    ballots_cast       BIGINT NOT NULL,
    invalid_ballots    BIGINT NOT NULL,
    against_all        BIGINT NOT NULL
);

-- Votes per list of those protocol events.
CREATE TABLE protocol_votes (
    position  BIGINT NOT NULL,
    list_id   VARCHAR NOT NULL,
    votes     BIGINT NOT NULL
);

-- Precincts declared by an ElectionDeclared event.
CREATE TABLE declared_precincts (
    position           BIGINT NOT NULL,
    election_id        VARCHAR NOT NULL,
    precinct_id        VARCHAR NOT NULL,
    region_id          VARCHAR NOT NULL,
    registered_voters  BIGINT NOT NULL
);

-- The content an event's hash covers, computed identically when appending and when verifying.
-- Every text is length-prefixed so that no choice of names can make two contents collide.
CREATE MACRO lp(x) AS length(coalesce(CAST(x AS VARCHAR), '')) || ':' || coalesce(CAST(x AS VARCHAR), '');
