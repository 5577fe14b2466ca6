-- An election's events of the types in $event_types with positions in ($pos_before, $pos_after]: what caused a diff.
SELECT position, occurred_at, event_type, precinct_id, file_name, row_number, batch_id
FROM stg_events
WHERE election_id = $election AND position > $pos_before AND position <= $pos_after
  AND list_contains($event_types, event_type)
ORDER BY position
