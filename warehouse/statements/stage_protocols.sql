-- The files' protocol rows to append (the rows view), each file's numbered on from its place in _file_layout, given their stream's next version.
CREATE OR REPLACE TEMP TABLE _staged_protocols AS
WITH numbered AS (  -- numbered on the keys alone: sorting the wide rows costs more
    SELECT r.seq, r.file_no, r.stream_id,
           l.protocol_base + row_number() OVER (PARTITION BY r.file_no ORDER BY r.seq) AS position
    FROM {{rows}} r JOIN _file_layout l USING (file_no)
), versions AS (
    SELECT stream_id, max(stream_version) AS version FROM events
    WHERE stream_id IN (SELECT stream_id FROM numbered) GROUP BY stream_id
)
SELECT r.*, n.position, coalesce(v.version, 0) + 1 AS stream_version
FROM {{rows}} r JOIN numbered n USING (file_no, seq) LEFT JOIN versions v ON v.stream_id = r.stream_id
