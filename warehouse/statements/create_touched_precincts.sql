-- _touched: the precincts whose contribution to the running totals the events after $since may change (a new protocol or an annulment).
CREATE OR REPLACE TEMP TABLE _touched AS
SELECT election_id, precinct_id FROM protocol_facts WHERE position > $since
UNION
SELECT election_id, payload->>'$.precinct_id' FROM events
WHERE event_type = $annulled AND position > $since
