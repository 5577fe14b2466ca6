-- _append_context: what every event of the decided file shares (election, file name as a JSON string, the two event types), one row read by _protocols_to_append.
CREATE OR REPLACE TEMP TABLE _append_context AS
SELECT $election AS election_id, $file_name_json AS file_name_json,
       $reported AS reported_type, $amended AS amended_type
