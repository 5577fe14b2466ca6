-- The seat table in force of one election (proj_seat_table), in ballot order.
SELECT * FROM proj_seat_table WHERE election_id = $election ORDER BY ballot_order
