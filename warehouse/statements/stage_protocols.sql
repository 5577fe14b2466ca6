-- A file's protocol rows to append (the rows view), numbered from the head on and given their stream's next version.
CREATE OR REPLACE TEMP TABLE _staged_protocols AS
WITH numbered AS (  -- numbered on the keys alone: sorting the wide rows costs more
    SELECT seq, stream_id, $last + row_number() OVER (ORDER BY seq) AS position FROM {{rows}}
), versions AS (
    SELECT stream_id, max(stream_version) AS version FROM events
    WHERE stream_id IN (SELECT stream_id FROM numbered) GROUP BY stream_id
)
SELECT r.*, n.position, coalesce(v.version, 0) + 1 AS stream_version
FROM {{rows}} r JOIN numbered n USING (seq) LEFT JOIN versions v ON v.stream_id = r.stream_id
