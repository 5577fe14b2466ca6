-- Every list id the log stores votes for, in the order a protocol's votes text lists them (verify's pivot of the votes).
SELECT DISTINCT list_id FROM protocol_votes WHERE list_id IS NOT NULL ORDER BY list_id
