-- The anomaly flags of the received files (BatchReceived events after $since) into proj_anomalies, one row per flag.
INSERT INTO proj_anomalies
WITH flags AS (  -- unnest of a JSON[]: json_each over payloads of thousands of flags is quadratic
    SELECT election_id, batch_id, position, payload->>'$.file_name' AS file_name,
           unnest(CAST(payload->'$.anomalies' AS JSON[])) AS a
    FROM events WHERE event_type = $received AND position > $since
)
SELECT election_id, batch_id, position, a->>'$.kind', a->>'$.precinct_id', file_name,
       CAST(a->>'$.row' AS INTEGER), a->>'$.detail'
FROM flags
