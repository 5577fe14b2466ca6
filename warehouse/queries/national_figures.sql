-- Precincts counted and national ballot figures now, from the running totals (same columns as national_figures_as_of).
SELECT coalesce(sum(precincts_counted), 0), coalesce(sum(ballots_cast), 0),
       coalesce(sum(invalid_ballots), 0), coalesce(sum(against_all), 0)
FROM proj_region_totals
WHERE election_id = $election
