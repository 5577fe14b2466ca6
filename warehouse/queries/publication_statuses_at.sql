-- The statuses (provisional, certified) an election was already published with at one base position.
SELECT status FROM proj_publications WHERE election_id = $election AND based_on_position = $based_on
