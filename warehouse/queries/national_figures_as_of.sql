-- Precincts counted and national ballot figures as of a log position: each precinct's protocol in force (the as-of macro), annulled precincts left out.
SELECT count(*), coalesce(sum(ballots_cast), 0), coalesce(sum(invalid_ballots), 0), coalesce(sum(against_all), 0)
FROM precinct_results_as_of($election, $as_of)
WHERE NOT annulled
