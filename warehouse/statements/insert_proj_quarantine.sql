-- The quarantined rows and files (RowQuarantined, BatchQuarantined events after $since) into proj_quarantine.
INSERT INTO proj_quarantine
SELECT position, election_id, batch_id, payload->>'$.file_name', CAST(payload->>'$.row' AS INTEGER),
       payload->>'$.column', payload->>'$.rule', payload->>'$.value', payload->>'$.message',
       payload->>'$.precinct_id'
FROM events WHERE event_type IN ($row, $file) AND position > $since
