-- The position of the last event in the database (0 when empty): how far a snapshot, or the log a projection or rule reads, reaches.
SELECT coalesce(max(position), 0) FROM events
