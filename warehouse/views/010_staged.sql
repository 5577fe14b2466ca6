-- Staged layer: one view per raw source, typed and renamed, with the payload fields analysts need
-- unpacked. Marts read these (and the projections), never the payload JSON directly.

-- A percentage rounded half-up to 2 places with exact integer arithmetic (NULL when the whole is 0).
CREATE OR REPLACE MACRO pct(part, whole) AS
    CAST(CAST((20000 * part + whole) // (2 * nullif(whole, 0)) AS DECIMAL(18, 0)) * 0.01 AS DECIMAL(7, 2));
COMMENT ON MACRO pct IS 'pct(part, whole): 100 * part / whole rounded half-up to 2 places, exactly.';

CREATE OR REPLACE VIEW stg_events AS
SELECT e.position,
       e.stream_id,
       e.stream_version,
       e.event_type,
       e.election_id,
       e.occurred_at,
       e.recorded_at,
       e.batch_id,
       coalesce(f.precinct_id, e.payload->>'$.precinct_id') AS precinct_id,
       e.payload->>'$.file_name' AS file_name,
       CAST(e.payload->>'$.row' AS INTEGER) AS row_number,
       CAST(e.payload AS JSON) AS payload,
       e.prev_hash,
       e.event_hash
FROM events e
LEFT JOIN protocol_facts f USING (position);
COMMENT ON VIEW stg_events IS 'Every event of the log, with precinct, file and row unpacked from the payload.';

CREATE OR REPLACE VIEW stg_protocols AS
SELECT f.position,
       f.election_id,
       f.precinct_id,
       f.region_id,
       f.protocol_version,
       e.event_type,
       e.occurred_at,
       e.batch_id,
       e.payload->>'$.file_name' AS file_name,
       e.payload->>'$.reason' AS amendment_reason,
       f.registered_voters,
       f.ballots_issued,
       f.ballots_cast,
       f.invalid_ballots,
       f.against_all
FROM protocol_facts f
JOIN events e USING (position);
COMMENT ON VIEW stg_protocols IS 'Every accepted protocol version (reported or amended), superseded ones included.';

CREATE OR REPLACE VIEW stg_protocol_votes AS
SELECT v.position, f.election_id, f.precinct_id, v.list_id, v.votes
FROM protocol_votes v
JOIN protocol_facts f USING (position);
COMMENT ON VIEW stg_protocol_votes IS 'Votes per list of every accepted protocol version.';

CREATE OR REPLACE VIEW stg_annulments AS
SELECT position,
       election_id,
       payload->>'$.precinct_id' AS precinct_id,
       occurred_at,
       payload->>'$.reason' AS reason,
       payload->>'$.decided_by' AS decided_by,
       payload->>'$.file_name' AS file_name
FROM events
WHERE event_type = 'PrecinctAnnulled';
COMMENT ON VIEW stg_annulments IS 'Every precinct annulment, with its reason and deciding body.';

CREATE OR REPLACE VIEW stg_declared_precincts AS
SELECT d.election_id, d.precinct_id, d.region_id, d.registered_voters, d.position AS declared_position
FROM declared_precincts d;
COMMENT ON VIEW stg_declared_precincts IS 'Every precinct an election declared, with its registered voters.';

-- Precincts as they stood at a log position: the latest accepted protocol version of each reported
-- precinct up to that position, and whether the precinct had been annulled by then. The one
-- definition of "in force" (seats --as-of, publications, diff, verify all read it), so it reads the
-- fact tables themselves: through stg_protocols' join with events, a million precincts took 6 to 10
-- times longer.
CREATE OR REPLACE MACRO precinct_results_as_of(election, as_of) AS TABLE
WITH latest AS (
    SELECT * FROM protocol_facts
    WHERE election_id = election AND position <= as_of
    QUALIFY row_number() OVER (PARTITION BY precinct_id ORDER BY position DESC) = 1
)
SELECT l.election_id,
       l.precinct_id,
       l.region_id,
       l.protocol_version,
       l.position AS protocol_position,
       l.registered_voters,
       l.ballots_issued,
       l.ballots_cast,
       l.invalid_ballots,
       l.against_all,
       EXISTS (SELECT 1 FROM stg_annulments a
               WHERE a.election_id = election AND a.precinct_id = l.precinct_id
                 AND a.position <= as_of) AS annulled
FROM latest l;
COMMENT ON MACRO TABLE precinct_results_as_of IS 'precinct_results_as_of(election, position): each reported precinct''s protocol in force at that log position.';

CREATE OR REPLACE MACRO precinct_list_votes_as_of(election, as_of) AS TABLE
SELECT r.election_id, r.precinct_id, r.region_id, v.list_id, v.votes, r.annulled
FROM precinct_results_as_of(election, as_of) r
JOIN protocol_votes v ON v.position = r.protocol_position;
COMMENT ON MACRO TABLE precinct_list_votes_as_of IS 'precinct_list_votes_as_of(election, position): votes per list of each precinct''s protocol in force at that log position.';
