-- The PrecinctAnnulled events after $since into proj_annulments.
INSERT INTO proj_annulments
SELECT election_id, payload->>'$.precinct_id', position,
       payload->>'$.reason', payload->>'$.decided_by'
FROM events WHERE event_type = $annulled AND position > $since
