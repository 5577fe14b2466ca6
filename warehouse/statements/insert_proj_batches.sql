-- The received files (BatchReceived events after $since) into proj_batches, straight from their payloads.
INSERT INTO proj_batches
SELECT batch_id, election_id, position, payload->>'$.file_name', payload->>'$.file_format',
       CAST(payload->>'$.size_bytes' AS BIGINT), occurred_at,
       CAST(payload->>'$.rows_total' AS INTEGER), CAST(payload->>'$.rows_applied' AS INTEGER),
       CAST(payload->>'$.rows_duplicate' AS INTEGER), CAST(payload->>'$.rows_quarantined' AS INTEGER),
       CAST(payload->>'$.quarantined_whole' AS BOOLEAN)
FROM events WHERE event_type = $received AND position > $since
