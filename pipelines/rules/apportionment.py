"""Apportionment methods over the admitted lists: quota + largest remainder, and highest averages.

A method is a small frozen object with `apportion(votes, seats, rule) -> MethodOutcome`, registered by name
in `pipelines.rules.registry` (profile field `method`): `LargestRemainder` over a quota from `quotas`,
`HighestAverages` over a divisor series from `divisors`, or any other object with that method.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from pipelines.core.errors import RulesCannotDecide
from pipelines.rules.number_text import approx
from pipelines.rules.ranking import TieRule, hand_out, pick

Claim = Callable[[str, int], Fraction]


@dataclass(frozen=True)
class ListResult:
    quota: Fraction | None
    quotient: Fraction | None
    integer_seats: int
    remainder: Fraction | None
    remainder_seat: bool

    @property
    def seats(self) -> int:
        return self.integer_seats + int(self.remainder_seat)


@dataclass(frozen=True)
class MethodOutcome:
    """Seats per admitted list; `claim(list, seats_now)` ranks lists for a further seat (vacancies)."""

    results: dict[str, ListResult]
    explanation: list[str]
    claim: Claim


class Apportionment(Protocol):
    def apportion(self, votes: Mapping[str, int], seats: int, rule: TieRule) -> MethodOutcome:
        """Share `seats` among the admitted lists (`votes` in ballot order), explaining each step."""
        ...


class Quota(Protocol):
    @property
    def label(self) -> str: ...

    def votes_per_seat(self, total_votes: int, seats: int) -> Fraction: ...


class Divisors(Protocol):
    @property
    def label(self) -> str: ...

    def divisor(self, seats_won: int) -> Fraction: ...


@dataclass(frozen=True)
class LargestRemainder:
    """Whole quotas first, then one seat each to the largest remainders."""

    quota: Quota

    def apportion(self, votes: Mapping[str, int], seats: int, rule: TieRule) -> MethodOutcome:
        quota = self.quota.votes_per_seat(sum(votes.values()), seats)
        return largest_remainder(votes, seats, quota, self.quota.label, rule)


@dataclass(frozen=True)
class HighestAverages:
    """Seats one at a time to the highest average votes / divisor(seats already won)."""

    divisors: Divisors

    def apportion(self, votes: Mapping[str, int], seats: int, rule: TieRule) -> MethodOutcome:
        return highest_averages(votes, seats, self.divisors, rule)


def largest_remainder(
    votes: Mapping[str, int], seats: int, quota: Fraction, quota_label: str, rule: TieRule
) -> MethodOutcome:
    """Whole quotas first, then one seat each to the largest remainders."""
    quotients = {i: Fraction(v) / quota for i, v in votes.items()}
    whole = {i: q.numerator // q.denominator for i, q in quotients.items()}
    remainders = {i: quotients[i] - whole[i] for i in votes}
    left = seats - sum(whole.values())
    lines = [
        f"{quota_label} quota: {sum(votes.values()):,} votes of the admitted lists for {seats} seats "
        f"= {approx(quota)} votes per seat."
    ]
    for i in votes:
        lines.append(
            f"{rule.label(i)}: {votes[i]:,} / {approx(quota)} = {approx(quotients[i])}: "
            f"{whole[i]} whole seat(s), remainder {approx(remainders[i])}."
        )
    if left > len(votes) or left < 0:
        raise RulesCannotDecide(
            f"{quota_label} largest remainder leaves {left} seats for {len(votes)} admitted lists: "
            "too few votes for this many seats to give each list at most one remainder seat"
        )
    winners, notes = pick(remainders, left, rule, "equal largest remainders")
    if left:
        ranked = sorted(winners, key=lambda i: (-remainders[i], rule.ballot_order[i] or 0, i))
        lines.append(
            f"{left} seat(s) remain after whole quotas; they go to the largest remainders: "
            + ", ".join(f"{rule.label(i)} ({approx(remainders[i])})" for i in ranked)
            + "."
        )
    else:
        lines.append("Whole quotas fill every seat; no remainder seats.")
    lines.extend(notes)
    results = {i: ListResult(quota, quotients[i], whole[i], remainders[i], i in winners) for i in votes}
    return MethodOutcome(results, lines, lambda i, n: quotients[i] - n)


def highest_averages(
    votes: Mapping[str, int], seats: int, divisors: Divisors, rule: TieRule
) -> MethodOutcome:
    """Seats one at a time to the highest average votes / divisor(seats already won)."""

    def average(i: str, n: int) -> Fraction:
        return Fraction(votes[i]) / divisors.divisor(n)

    current = dict.fromkeys(votes, 0)
    notes, _ = hand_out(seats, current, average, rule, "equal highest averages")
    lines = [f"{divisors.label}: each of the {seats} seats goes to the list with the highest average."]
    winning = [average(i, n - 1) for i, n in current.items() if n > 0]
    if winning:
        losing = max(average(i, n) for i, n in current.items())
        lines.append(
            f"The last seat went at an average of {approx(min(winning))}; the next would have needed "
            f"{approx(losing)}."
        )
    for i in votes:
        lines.append(f"{rule.label(i)}: {votes[i]:,} votes, {current[i]} seat(s).")
    lines.extend(notes)
    results = {i: ListResult(None, None, current[i], None, False) for i in votes}
    return MethodOutcome(results, lines, average)
