"""Seat allocation: national list votes + a rule profile -> an exact, explained seat table.

See docs/seat-allocation.md for the rules, the choices the law leaves open, and how to check a result by hand.
"""

from pipelines.seat_allocation.engine import allocate
from pipelines.seat_allocation.model import Allocation, ListVotes, SeatRow

__all__ = ["Allocation", "ListVotes", "SeatRow", "allocate"]
