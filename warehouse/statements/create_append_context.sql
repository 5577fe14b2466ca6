-- _append_context: what every event of the decided files shares (election, the two event types), one row read by _protocols_to_append beside _append_files (each file's name as a JSON string).
CREATE OR REPLACE TEMP TABLE _append_context AS
SELECT $election AS election_id, $reported AS reported_type, $amended AS amended_type
