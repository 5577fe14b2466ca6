"""Threshold certainty: which lists pass whatever the outstanding ballots say, which cannot, which are open.

The outstanding precincts can add at most `outstanding` ballots in all, split in any way among the lists,
invalid ballots and 'against all' (a sum of per-precinct splits is any split of the sum, so only the
total matters). A threshold base is measured on totals, so the extremes are measured too: the largest
base a list can face (every outstanding ballot on whatever grows the base most, none on the list) and
the smallest base beside the most the list can have (every outstanding ballot on the list itself).
Only bases known to grow by at most one per added ballot and never to shrink are bounded this way;
any other base leaves every list open.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Final, Literal

from pipelines.rules.list_votes import ListVotes
from pipelines.rules.thresholds import (
    BallotsCast,
    RegisteredVoters,
    ShareThreshold,
    ValidListVotes,
    ValidListVotesPlusAgainstAll,
    VoteTotals,
)

ThresholdStatus = Literal["certain", "out", "open"]

# Bases that are a sum of counts or a constant (the electorate): each added ballot adds 0 or 1 to them.
_BOUNDED_BASES: Final = (ValidListVotes, ValidListVotesPlusAgainstAll, BallotsCast, RegisteredVoters)


@dataclass(frozen=True)
class BaseExtremes:
    """`largest`: the base with every outstanding ballot where it grows the base most, on no list in
    particular; `with_list_best`: the base when every outstanding ballot goes to one list."""

    largest: int
    with_list_best: int


def _added(totals: VoteTotals, *, lists: int = 0, against_all: int = 0, invalid: int = 0) -> VoteTotals:
    more = lists + against_all + invalid
    return replace(
        totals,
        list_votes=totals.list_votes + lists,
        against_all=totals.against_all + against_all,
        invalid=None if totals.invalid is None else totals.invalid + invalid,
        ballots_cast=None if totals.ballots_cast is None else totals.ballots_cast + more,
    )


def bounded_base(threshold: ShareThreshold) -> bool:
    """Whether the extremes of this threshold's base are known (see the module's docstring)."""
    return isinstance(threshold.base, _BOUNDED_BASES)


def base_extremes(
    threshold: ShareThreshold, totals: VoteTotals, outstanding: int, profile_id: str
) -> BaseExtremes:
    """The extremes of the base; InputError as `measure` raises it when the totals cannot measure it."""
    vertices = (
        _added(totals, lists=outstanding),
        _added(totals, against_all=outstanding),
        _added(totals, invalid=outstanding),
    )
    largest = max(threshold.measure(v, profile_id) for v in vertices)
    return BaseExtremes(largest, threshold.measure(vertices[0], profile_id))


def _share(votes: int, base: int) -> Fraction:
    return Fraction(votes, base) if base else Fraction(0)


def threshold_status(
    lists: Sequence[ListVotes],
    threshold: ShareThreshold,
    totals: VoteTotals,
    outstanding: int | None,
    profile_id: str,
) -> dict[str, ThresholdStatus]:
    """Each list's status: `certain` passes in every completion, `out` in none, `open` otherwise.

    `outstanding` None (unbounded) or a base not `bounded_base` leaves every list open.
    """
    if outstanding is None or not bounded_base(threshold):
        return {x.list_id: "open" for x in lists}
    extremes = base_extremes(threshold, totals, outstanding, profile_id)
    status: dict[str, ThresholdStatus] = {}
    for x in lists:
        # The share (v + a) / (B + a) grows with a because B >= v: the best case is every ballot on it.
        best = x.votes + outstanding
        if threshold.passes(x, _share(x.votes, extremes.largest)):
            status[x.list_id] = "certain"
        elif not threshold.passes(replace(x, votes=best), _share(best, extremes.with_list_best)):
            status[x.list_id] = "out"
        else:
            status[x.list_id] = "open"
    return status
