-- _protocols_to_append: one row per event to append for the decided files (_batch, _decided, _reasons, _append_files, _append_context), with one column per list id, as EventStore.append_files reads it.
-- Payloads are canonical JSON (sorted keys, no spaces); texts come JSON-escaped by Python's json, as canonical_json escapes every other event's, so both paths spell a payload alike.
-- The gate accepted a row only if its region is the precinct's declared region (rule region_mismatch), so the row's region is the one to store.
CREATE OR REPLACE TEMP VIEW _protocols_to_append AS
SELECT b.file_no, b.row AS seq,
       'precinct:' || c.election_id || '/' || b.precinct_id AS stream_id,
       CASE d.decision WHEN 'amended' THEN c.amended_type ELSE c.reported_type END AS event_type,
       CASE d.decision
           WHEN 'amended' THEN '{"file_name":' || n.file_name_json || ',"reason":' || r.reason_json
                || ',"row":' || CAST(b.row AS VARCHAR) || ',"supersedes_version":'
                || CAST(d.max_version AS VARCHAR) || '}'
           ELSE '{"file_name":' || n.file_name_json || ',"row":' || CAST(b.row AS VARCHAR) || '}'
       END AS payload,
       b.precinct_id, b.region AS region_id, b.version AS protocol_version,
       b.registered_voters, b.ballots_issued, b.ballots_cast, b.invalid_ballots, b.against_all,
       {{b.lists}}
FROM _batch b JOIN _decided d USING (file_no, row)
JOIN _append_files n USING (file_no)
LEFT JOIN _reasons r USING (file_no, row)
CROSS JOIN _append_context c
WHERE d.decision IN ('reported', 'amended')
