-- How many rows of one table (the marker table) the generation and the source database attached as source_database (snapshot_delta.SOURCE) hold that the other lacks, counted both ways.
SELECT (SELECT count(*) FROM (FROM {{table}} EXCEPT ALL FROM {{source_database.table}}))
     + (SELECT count(*) FROM (FROM {{source_database.table}} EXCEPT ALL FROM {{table}}))
