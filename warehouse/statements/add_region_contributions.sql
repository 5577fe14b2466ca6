-- $sign (+1 or -1) times the touched precincts' figures into _region_deltas, as the publication files count them: declared precincts, by declared region.
INSERT INTO _region_deltas
SELECT election_id, declared_region,
       $sign * count(*) FILTER (WHERE reported),
       $sign * count(*) FILTER (WHERE annulled),
       $sign * count(*) FILTER (WHERE counted),
       $sign * count(*) FILTER (WHERE NOT reported AND NOT annulled),
       $sign * coalesce(sum(registered_voters) FILTER (WHERE counted), 0),
       $sign * coalesce(sum(ballots_cast) FILTER (WHERE counted), 0),
       $sign * coalesce(sum(invalid_ballots) FILTER (WHERE counted), 0),
       $sign * coalesce(sum(against_all) FILTER (WHERE counted), 0)
FROM _touched_state WHERE declared_region IS NOT NULL
GROUP BY election_id, declared_region
