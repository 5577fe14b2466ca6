-- Precincts reported by the base position of each publication after $since, into proj_publication_progress: those reported now (the running totals) less those whose first protocol came after it.
-- Protocols exist only for declared precincts (ingestion refuses others), so the declared count of the totals is the count of precincts with a protocol.
INSERT INTO proj_publication_progress
WITH pubs AS (
    SELECT publication_id, election_id, based_on_position FROM proj_publications
    WHERE position > $since
), later AS (
    SELECT DISTINCT f.election_id, f.precinct_id FROM protocol_facts f
    WHERE f.position > (SELECT min(based_on_position) FROM pubs)
      AND f.election_id IN (SELECT election_id FROM pubs)
), firsts AS (
    SELECT f.election_id, min(f.position) AS first_position
    FROM protocol_facts f JOIN later USING (election_id, precinct_id)
    GROUP BY f.election_id, f.precinct_id
), now AS (
    SELECT election_id, sum(precincts_reported) AS reported FROM proj_region_totals
    WHERE election_id IN (SELECT election_id FROM pubs) GROUP BY election_id
)
SELECT p.publication_id, p.election_id, p.based_on_position,
       coalesce(any_value(n.reported), 0) - count(f.first_position)
FROM pubs p
LEFT JOIN now n USING (election_id)
LEFT JOIN firsts f ON f.election_id = p.election_id AND f.first_position > p.based_on_position
GROUP BY p.publication_id, p.election_id, p.based_on_position
