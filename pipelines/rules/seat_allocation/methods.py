"""Apportionment methods over the admitted lists: quota + largest remainder, and highest averages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from pipelines.core.errors import RulesCannotDecide
from pipelines.rules.seat_allocation.model import approx
from pipelines.rules.seat_allocation.ranking import TieRule, hand_out, pick

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


def hare_quota(total_votes: int, seats: int) -> Fraction:
    return Fraction(total_votes, seats)


def droop_quota(total_votes: int, seats: int) -> Fraction:
    """The classic integer Droop quota, floor(votes / (seats + 1)) + 1."""
    return Fraction(total_votes // (seats + 1) + 1)


DIVISORS: dict[str, Callable[[int], Fraction]] = {
    "dhondt": lambda n: Fraction(n + 1),
    "sainte-lague": lambda n: Fraction(2 * n + 1),
    "modified-sainte-lague": lambda n: Fraction(7, 5) if n == 0 else Fraction(2 * n + 1),
}
DIVISOR_LABELS = {
    "dhondt": "D'Hondt (divisors 1, 2, 3, ...)",
    "sainte-lague": "Sainte-Laguë (divisors 1, 3, 5, ...)",
    "modified-sainte-lague": "modified Sainte-Laguë (divisors 1.4, 3, 5, ...)",
}


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


def highest_averages(votes: Mapping[str, int], seats: int, method: str, rule: TieRule) -> MethodOutcome:
    """Seats one at a time to the highest average votes / divisor(seats already won)."""
    divisor = DIVISORS[method]

    def average(i: str, n: int) -> Fraction:
        return Fraction(votes[i]) / divisor(n)

    current = dict.fromkeys(votes, 0)
    notes, _ = hand_out(seats, current, average, rule, "equal highest averages")
    lines = [
        f"{DIVISOR_LABELS[method]}: each of the {seats} seats goes to the list with the highest average."
    ]
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


def apportion(votes: Mapping[str, int], seats: int, method: str, rule: TieRule) -> MethodOutcome:
    """Share `seats` among the admitted lists by `method`."""
    total = sum(votes.values())
    if method == "hare":
        return largest_remainder(votes, seats, hare_quota(total, seats), "Hare", rule)
    if method == "droop":
        return largest_remainder(votes, seats, droop_quota(total, seats), "Droop", rule)
    return highest_averages(votes, seats, method, rule)
