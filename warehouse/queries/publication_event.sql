-- One publication's event: its log position, when it was published and its payload (what it recorded).
SELECT p.position, e.occurred_at, e.payload
FROM proj_publications p
JOIN events e USING (position)
WHERE p.publication_id = $publication
