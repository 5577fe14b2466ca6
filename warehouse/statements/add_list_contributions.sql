-- $sign (+1 or -1) times the touched precincts' votes into _list_deltas: counted protocols, by the protocol's region.
-- FILTER, not WHERE: with WHERE, DuckDB pushes the sum below the join and groups all 20M vote rows.
INSERT INTO _list_deltas
SELECT s.election_id, s.region_id, v.list_id,
       $sign * coalesce(sum(v.votes) FILTER (WHERE s.counted), 0)
FROM _touched_state s JOIN protocol_votes v ON v.position = s.protocol_position
GROUP BY s.election_id, s.region_id, v.list_id
