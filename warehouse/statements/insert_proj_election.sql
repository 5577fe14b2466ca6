-- One declared election into proj_elections (its rules in force are shown by update_proj_election_rules).
INSERT INTO proj_elections (election_id, name, election_date, rule_profile, against_all_on_ballot, synthetic,
                            declared_position)
VALUES ($election, $name, $date, $rule_profile, $against_all_on_ballot, $synthetic, $position)
