"""The seat table: what comes out of an allocation (one row per list, and the explanation)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from pipelines.rules.number_text import fraction_text, percent_text

Record = dict[str, str | int | bool | None]


@dataclass(frozen=True)
class SeatRow:
    """One list's line of the seat table.

    `seats` counts every seat the list won, `vacant_seats` how many of them stay empty because the list
    has too few candidates; `redistributed_seats` is what the vacancy rule moved to (+) or from (-) the
    list, so that seats == integer_seats + remainder_seat + redistributed_seats.
    """

    list_id: str
    name: str
    ballot_order: int | None
    votes: int
    share: Fraction  # of the threshold base
    share_pct: str  # share in percent, rounded half-up to 2 decimals
    passed_threshold: bool
    admitted_by_guarantee: bool
    quota: Fraction | None
    quotient: Fraction | None
    integer_seats: int
    remainder: Fraction | None
    remainder_seat: bool
    seats: int
    vacant_seats: int
    redistributed_seats: int = 0

    @property
    def admitted(self) -> bool:
        return self.passed_threshold or self.admitted_by_guarantee

    @property
    def filled_seats(self) -> int:
        return self.seats - self.vacant_seats

    def to_record(self) -> Record:
        return {
            "list_id": self.list_id,
            "name": self.name,
            "ballot_order": self.ballot_order,
            "votes": self.votes,
            "share": fraction_text(self.share),
            "share_pct": self.share_pct,
            "passed_threshold": self.passed_threshold,
            "admitted_by_guarantee": self.admitted_by_guarantee,
            "quota": fraction_text(self.quota),
            "quotient": fraction_text(self.quotient),
            "integer_seats": self.integer_seats,
            "remainder": fraction_text(self.remainder),
            "remainder_seat": self.remainder_seat,
            "redistributed_seats": self.redistributed_seats,
            "seats": self.seats,
            "vacant_seats": self.vacant_seats,
            "filled_seats": self.filled_seats,
        }


@dataclass(frozen=True)
class Allocation:
    """The list-seat table of one election with the plain-language reasoning behind it."""

    profile_id: str
    method: str
    total_seats: int
    threshold: Fraction
    threshold_base: str
    base_votes: int
    rows: tuple[SeatRow, ...]  # in ballot order
    explanation: tuple[str, ...]
    guarantee_applied: str | None = None  # the guarantee variant when it admitted a runner-up

    def seats_of(self, list_id: str) -> int:
        return next(row.seats for row in self.rows if row.list_id == list_id)

    def to_records(self) -> list[Record]:
        """One JSON-safe record per list, fractions as exact text ('p/q'), in ballot order."""
        return [row.to_record() for row in self.rows]

    def to_dict(self) -> dict[str, object]:
        return {
            "profile_id": self.profile_id,
            "method": self.method,
            "total_seats": self.total_seats,
            "threshold": fraction_text(self.threshold),
            "threshold_pct": percent_text(self.threshold),
            "threshold_base": self.threshold_base,
            "base_votes": self.base_votes,
            "guarantee_applied": self.guarantee_applied,
            "rows": self.to_records(),
            "explanation": list(self.explanation),
        }


RECORD_FIELDS: tuple[str, ...] = tuple(
    SeatRow("", "", None, 0, Fraction(0), "", False, False, None, None, 0, None, False, 0, 0).to_record()
)
