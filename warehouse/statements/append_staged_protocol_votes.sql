-- The staged protocols' votes (one column per list) into protocol_votes, one row per list.
INSERT INTO protocol_votes
SELECT position, list_id, votes
FROM (UNPIVOT (SELECT position, {{lists}} FROM _staged_protocols) ON {{lists}} INTO NAME list_id VALUE votes)
