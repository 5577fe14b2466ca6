"""Vacancy rules: what happens to seats a list won beyond its number of candidates.

A vacancy rule is a small frozen object registered by name in `pipelines.rules.registry` (profile field
`vacant_seats`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from pipelines.rules.apportionment import Claim
from pipelines.rules.ranking import TieRule, hand_out


@dataclass(frozen=True)
class Settlement:
    """Seats per list after the rule, seats it moved (+ received, - given up) and seats left vacant."""

    seats: dict[str, int]
    moved: dict[str, int]
    vacant: dict[str, int]
    explanation: tuple[str, ...]


class VacancyRule(Protocol):
    def settle(
        self, won: Mapping[str, int], capacity: Mapping[str, int | None], claim: Claim, rule: TieRule
    ) -> Settlement:
        """Settle seats beyond `capacity` (None = long enough); `claim` ranks lists for a further seat."""
        ...


def shortfalls(
    won: Mapping[str, int], capacity: Mapping[str, int | None], rule: TieRule
) -> tuple[dict[str, int], list[str]]:
    """Seats without a member per list that won more seats than it has candidates, and what to say."""
    short = {i: n - limit for i, n in won.items() if (limit := capacity[i]) is not None and n > limit}
    lines = [
        f"{rule.label(i)} won {won[i]} seat(s) but has only {capacity[i]} candidate(s): "
        f"{missing} seat(s) without a member."
        for i, missing in short.items()
    ]
    return short, lines


@dataclass(frozen=True)
class LeaveVacant:
    """The seats stay vacant until the next election (the Mazhilis rule)."""

    def settle(
        self, won: Mapping[str, int], capacity: Mapping[str, int | None], claim: Claim, rule: TieRule
    ) -> Settlement:
        short, lines = shortfalls(won, capacity, rule)
        return Settlement(dict(won), dict.fromkeys(won, 0), dict.fromkeys(won, 0) | short, tuple(lines))


@dataclass(frozen=True)
class Redistribute:
    """Each vacant seat goes to the next in line among lists with candidates left; else it stays vacant."""

    def settle(
        self, won: Mapping[str, int], capacity: Mapping[str, int | None], claim: Claim, rule: TieRule
    ) -> Settlement:
        short, lines = shortfalls(won, capacity, rule)
        moved = dict.fromkeys(won, 0)
        vacant = dict.fromkeys(won, 0)
        if not short:
            return Settlement(dict(won), moved, vacant, tuple(lines))
        receivers = {i: n for i, n in won.items() if i not in short}
        notes, unfilled = hand_out(
            sum(short.values()), receivers, claim, rule, "vacant seats, equal claims", capacity
        )
        final = dict(won)
        for i, n in receivers.items():
            moved[i] = n - won[i]
            final[i] = n
        for i in short:
            moved[i] = -short[i]
            final[i] = won[i] - short[i]
        lines.append(
            "Vacant seats are redistributed to the next in line among lists with candidates left: "
            + (
                ", ".join(f"{rule.label(i)} +{n}" for i, n in moved.items() if n > 0)
                or "no list can take them"
            )
            + "."
        )
        lines.extend(notes)
        if unfilled:
            # nobody has candidates left: the seats stay vacant on the lists that won them
            for i in sorted(
                short, key=lambda i: (rule.ballot_order[i] is None, rule.ballot_order[i] or 0, i)
            ):
                back = min(unfilled, short[i])
                final[i] += back
                moved[i] += back
                vacant[i] = back
                unfilled -= back
            lines.append("No list has candidates left for the remaining vacant seats; they stay vacant.")
        return Settlement(final, moved, vacant, tuple(lines))
