-- Show an election's rules in force (profile, hash, the event that set them, where they apply from) in proj_elections.
UPDATE proj_elections
SET rules_profile_id = $profile_id, rules_sha256 = $sha256, rules_set_at = $set_at,
    rules_effective_from = $effective_from
WHERE election_id = $election
