"""Seat allocation: national list votes + a rule profile -> an exact, explained seat table.

See docs/seat-allocation.md for the rules, the choices the law leaves open, and how to check a result by hand.
"""

from pipelines.rules.list_votes import ListVotes
from pipelines.rules.seat_allocation.csv_input import read_votes_csv
from pipelines.rules.seat_allocation.districts import (
    CombinedRow,
    CombinedSeatTable,
    DistrictVote,
    DistrictWinner,
    combine_with_districts,
    district_winners,
    read_districts_csv,
)
from pipelines.rules.seat_allocation.engine import allocate
from pipelines.rules.seat_allocation.model import Allocation, SeatRow

__all__ = [
    "Allocation",
    "CombinedRow",
    "CombinedSeatTable",
    "DistrictVote",
    "DistrictWinner",
    "ListVotes",
    "SeatRow",
    "allocate",
    "combine_with_districts",
    "district_winners",
    "read_districts_csv",
    "read_votes_csv",
]
