-- Elections whose rules in force may have moved between $since and $head: rules never shown yet, amended after $since, or a scheduled amendment reached.
SELECT election_id FROM proj_elections WHERE rules_sha256 IS NULL
UNION
SELECT election_id FROM proj_rule_amendments
WHERE position > $since OR (effective_position > $since AND effective_position <= $head)
