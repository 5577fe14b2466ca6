-- Marts about the log itself: what was published, what was flagged or refused, and every event.

CREATE OR REPLACE VIEW publications AS
SELECT p.publication_id,
       p.election_id,
       p.status,
       p.position,
       p.based_on_position,
       p.rule_profile,
       p.table_sha256,
       p.published_at,
       s.total_seats,
       s.lists_with_seats,
       p.position = max(p.position) OVER (PARTITION BY p.election_id) AS is_latest,
       r.position AS revoked_position
FROM proj_publications p
LEFT JOIN (
    SELECT publication_id, sum(seats) AS total_seats, count(*) FILTER (WHERE seats > 0) AS lists_with_seats
    FROM proj_published_seats GROUP BY publication_id
) s USING (publication_id)
LEFT JOIN proj_certification_revocations r USING (publication_id);
COMMENT ON VIEW publications IS 'Every provisional or certified publication: what it was based on, its table checksum, and where a certification was revoked.';

CREATE OR REPLACE VIEW published_seats AS
SELECT p.publication_id,
       p.election_id,
       p.status,
       p.based_on_position,
       p.published_at,
       s.list_id,
       s.name AS list_name,
       s.ballot_order,
       s.votes,
       s.seats
FROM proj_published_seats s
JOIN proj_publications p USING (publication_id);
COMMENT ON VIEW published_seats IS 'Votes and seats per list of every publication: the seat projection through election night.';

CREATE OR REPLACE VIEW seat_table AS
SELECT s.election_id,
       p.publication_id,
       p.status,
       s.based_on_position,
       s.list_id,
       s.name AS list_name,
       s.ballot_order,
       s.votes,
       s.share,
       s.share_pct,
       s.passed_threshold,
       s.admitted_by_guarantee,
       s.seats,
       CAST(s.detail AS JSON) AS detail
FROM proj_seat_table s
LEFT JOIN publications p ON p.election_id = s.election_id AND p.is_latest;
COMMENT ON VIEW seat_table IS 'The seat table in force per election: the latest publication''s allocation.';

CREATE OR REPLACE VIEW anomalies AS
SELECT a.election_id,
       a.position,
       b.received_at,
       a.kind,
       a.precinct_id,
       a.file_name,
       a.row_number,
       a.detail,
       a.batch_id
FROM proj_anomalies a
LEFT JOIN proj_batches b USING (position);
COMMENT ON VIEW anomalies IS 'Non-blocking anomaly flags raised when files were validated (accepted, but worth a look).';

CREATE OR REPLACE VIEW quarantine AS
SELECT q.election_id,
       q.position,
       e.occurred_at AS received_at,
       q.file_name,
       q.row_number,
       q.column_name,
       q.rule,
       q.value,
       q.message,
       q.precinct_id,
       q.batch_id
FROM proj_quarantine q
JOIN events e USING (position);
COMMENT ON VIEW quarantine IS 'Rows and files refused, with file, row, column, rule, value and a plain message.';

CREATE OR REPLACE VIEW events_log AS
SELECT position,
       occurred_at,
       recorded_at,
       election_id,
       event_type,
       stream_id,
       stream_version,
       precinct_id,
       file_name,
       row_number,
       batch_id,
       event_hash
FROM stg_events;
COMMENT ON VIEW events_log IS 'The event log in reading order: type, precinct, file and row of each event, without the payload.';
