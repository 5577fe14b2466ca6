-- The last log position whose event occurred at or before a moment (0 when none): `--as-of` given as a time.
SELECT coalesce(max(position), 0) FROM events WHERE occurred_at <= $moment
