-- The length prefix of every hashed text (lp), a TEMP macro on every connection that hashes, so no stored definition takes part.
CREATE OR REPLACE TEMP MACRO lp(x) AS length(coalesce(CAST(x AS VARCHAR), '')) || ':' || coalesce(CAST(x AS VARCHAR), '')
