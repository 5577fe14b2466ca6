"""Consolation seats: lists within set bands below the threshold get a fixed number of seats first.

Russia, Federal Law No. 51-FZ of 18 May 2005 on the election of the State Duma, art. 82 as amended by
Federal Law No. 94-FZ of 12 May 2009 (applied in December 2011): a list with at least 5% and less than 6%
of the votes gets one mandate, with at least 6% and less than 7% two; the other seats are shared among
the lists over 7%. Profile field `consolation_seats`: bands of the threshold base, each from its lower
bound (inclusive) to below its upper bound, all below the threshold.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from fractions import Fraction

from pipelines.core.errors import RulesCannotDecide
from pipelines.rules.number_text import approx, percent_text
from pipelines.rules.ranking import TieRule


@dataclass(frozen=True)
class Band:
    low: Fraction  # share of the threshold base, inclusive
    high: Fraction  # exclusive
    seats: int

    def holds(self, share: Fraction) -> bool:
        return self.low <= share < self.high


@dataclass(frozen=True)
class ConsolationOutcome:
    seats: dict[str, int]  # lists given consolation seats, in ballot order
    explanation: tuple[str, ...]


@dataclass(frozen=True)
class ConsolationSeats:
    """A list not admitted, with votes, whose share lies in a band gets that band's seats."""

    bands: tuple[Band, ...]

    def award(
        self,
        votes: Mapping[str, int],
        shares: Mapping[str, Fraction],
        admitted: Set[str],
        total_seats: int,
        rule: TieRule,
    ) -> ConsolationOutcome:
        seats: dict[str, int] = {}
        lines: list[str] = []
        for list_id, share in shares.items():
            if list_id in admitted or votes[list_id] == 0:
                continue
            band = next((b for b in self.bands if b.holds(share)), None)
            if band is None:
                continue
            seats[list_id] = band.seats
            lines.append(
                f"{rule.label(list_id)}: {percent_text(share)}% lies at or above {approx(band.low * 100)}% "
                f"and below {approx(band.high * 100)}%: {band.seats} consolation seat(s), "
                "before the apportionment."
            )
        given = sum(seats.values())
        if given >= total_seats:
            raise RulesCannotDecide(
                f"consolation seats ({given}) leave none of the {total_seats} seats for the lists admitted: "
                "the rules cannot decide"
            )
        if given:
            lines.append(f"{total_seats - given} seat(s) remain for the lists admitted.")
        return ConsolationOutcome(seats, tuple(lines))
