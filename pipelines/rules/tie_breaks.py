"""Tie breaks: how lists with equal claims at the cut are ordered, or why the rules cannot order them.

A tie break is a small frozen object registered by name in `pipelines.rules.registry` (profile field
`tie_break`). `pipelines.rules.ranking.pick` asks it only about a tie across the cut.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


class NamedLists(Protocol):
    """What a tie break may know of the lists: their ballot order and how explanations name them."""

    @property
    def ballot_order(self) -> Mapping[str, int | None]: ...

    def label(self, list_id: str) -> str: ...


@dataclass(frozen=True)
class TieDecision:
    """The tied lists in the order the rule ranks them (the first `need` win) and how it chose."""

    ranked: tuple[str, ...]
    how: str


@dataclass(frozen=True)
class TieRefusal:
    """The rules cannot order the tied lists; `reason` says why."""

    reason: str


class TieBreak(Protocol):
    def decide(self, tied: Sequence[str], need: int, lists: NamedLists) -> TieDecision | TieRefusal:
        """Order `tied` (all at the same claim) for `need` seats, or refuse."""
        ...


@dataclass(frozen=True)
class BallotOrderTieBreak:
    """The list registered earlier (lower ballot order) wins; refused when a tied list has no order."""

    def decide(self, tied: Sequence[str], need: int, lists: NamedLists) -> TieDecision | TieRefusal:
        order = lists.ballot_order
        unknown = [i for i in tied if order[i] is None]
        if unknown:
            return TieRefusal(
                f"the ballot order of {', '.join(lists.label(i) for i in unknown)} is not known"
            )
        ranked = tuple(sorted(tied, key=lambda i: (order[i], i)))
        chosen = ", ".join(f"{lists.label(i)} (ballot {order[i]})" for i in ranked[:need])
        return TieDecision(ranked, f"the earlier registered win: {chosen}")


@dataclass(frozen=True)
class RefuseTies:
    """Every tie across the cut is refused: the commission decides (lot, repeat vote), not the code."""

    def decide(self, tied: Sequence[str], need: int, lists: NamedLists) -> TieDecision | TieRefusal:
        return TieRefusal("the rule profile says ties are refused (tie_break: refuse)")
