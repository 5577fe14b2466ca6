"""Quotas for the largest-remainder method: votes per seat, exact (registered by name in `registry`)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class HareQuota:
    """Votes / seats, exactly: the quota of the Mazhilis law."""

    label: str = "Hare"

    def votes_per_seat(self, total_votes: int, seats: int) -> Fraction:
        return Fraction(total_votes, seats)


@dataclass(frozen=True)
class DroopQuota:
    """The classic integer Droop quota, floor(votes / (seats + 1)) + 1."""

    label: str = "Droop"

    def votes_per_seat(self, total_votes: int, seats: int) -> Fraction:
        return Fraction(total_votes // (seats + 1) + 1)
