"""Materiality of the quarantine: could the quarantined results, once corrected and accepted, change who
passes the threshold or any seat of the table counted now?

The precincts the quarantine names are at stake: each may end with any result up to its registered
voters, replacing the protocol it has in force now, if any. So their counted votes come out of the totals
and their registered voters become what is outstanding, and the certainty bounds of that
(`certainty_bounds`) decide:

- `cannot_matter`: every list's interval is its seats now and its threshold status what it is now
  (proven, for every correction);
- `matters`: a correction was found that changes the table (given as a witness: all of it on one list,
  on 'against all', on invalid ballots, nobody voting, or any split when they are few enough to try
  every one);
- `may_matter`: neither could be shown (the bounds are not tight enough and the corrections too many to
  try), or the quarantine names no precinct it can be bounded by (a file refused whole).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final, Literal

from pipelines.core.errors import RulesCannotDecide
from pipelines.rules.certainty_bounds import SeatBounds, certainty_bounds
from pipelines.rules.list_votes import ListVotes
from pipelines.rules.rule_profiles import RuleProfile
from pipelines.rules.seat_allocation.engine import allocate
from pipelines.rules.seat_allocation.model import Allocation

Verdict = Literal["cannot_matter", "matters", "may_matter"]

# Corrections tried one by one when the bounds cannot decide: up to this many distinct totals.
EVERY_SPLIT_LIMIT: Final = 400


@dataclass(frozen=True)
class Counted:
    """What the precincts at stake count now (their protocols in force): per list, 'against all', invalid."""

    list_votes: Mapping[str, int]
    against_all: int = 0
    invalid: int = 0


@dataclass(frozen=True)
class Materiality:
    verdict: Verdict
    at_stake_voters: int | None  # None: not bounded
    bounds: SeatBounds | None
    witness: str | None = None  # a correction that changes the table, in words


Outcome = tuple[tuple[str, int, bool], ...] | None  # (list, seats, passed) per list; None: undecidable


def _outcome(allocation: Allocation | None) -> Outcome:
    if allocation is None:
        return None
    return tuple((r.list_id, r.seats, r.passed_threshold) for r in allocation.rows)


def _splits(ballots: int, parts: int) -> Iterator[tuple[int, ...]]:
    """Every way up to `ballots` ballots fall into `parts` piles (the rest do not vote)."""
    for cuts in itertools.combinations(range(ballots + parts), parts):
        yield tuple(b - a - 1 for a, b in itertools.pairwise((-1, *cuts)))


def _every_split_count(ballots: int, parts: int) -> int:
    count = 1
    for k in range(1, parts + 1):
        count = count * (ballots + k) // k
    return count


def quarantine_materiality(
    lists: Sequence[ListVotes],
    profile: RuleProfile,
    at_stake_voters: int | None,
    counted: Counted,
    *,
    against_all: int = 0,
    invalid: int | None = None,
    ballots_cast: int | None = None,
    registered_voters: int | None = None,
) -> Materiality:
    """Whether the quarantine can change the table over these totals (see the module's docstring).

    `at_stake_voters`: the registered voters of the precincts the quarantine names (None: not bounded);
    `counted`: what those precincts count now, taken out of the totals. RulesCannotDecide when the
    table now cannot be decided.
    """
    now = allocate(
        lists,
        profile,
        against_all=against_all,
        invalid=invalid,
        ballots_cast=ballots_cast,
        registered_voters=registered_voters,
    )
    if at_stake_voters is None:
        return Materiality("may_matter", None, None)
    removed = sum(counted.list_votes.values()) + counted.against_all + counted.invalid
    base_lists = [replace(x, votes=x.votes - counted.list_votes.get(x.list_id, 0)) for x in lists]
    base_invalid = None if invalid is None else invalid - counted.invalid
    base_cast = None if ballots_cast is None else ballots_cast - removed
    base_against = against_all - counted.against_all

    def table(extra: Sequence[int]) -> Allocation | None:
        n = len(base_lists)
        try:
            return allocate(
                [replace(x, votes=x.votes + a) for x, a in zip(base_lists, extra[:n], strict=True)],
                profile,
                against_all=base_against + extra[n],
                invalid=None if base_invalid is None else base_invalid + extra[n + 1],
                ballots_cast=None if base_cast is None else base_cast + sum(extra),
                registered_voters=registered_voters,
            )
        except RulesCannotDecide:
            return None

    bounds = certainty_bounds(
        base_lists,
        profile,
        at_stake_voters,
        against_all=base_against,
        invalid=base_invalid,
        ballots_cast=base_cast,
        registered_voters=registered_voters,
    )
    seats_now = {r.list_id: (r.seats, r.passed_threshold) for r in now.rows}
    if all(
        b.min_seats == b.max_seats == seats_now[b.list_id][0]
        and b.status == ("certain" if seats_now[b.list_id][1] else "out")
        for b in bounds.lists
    ):
        return Materiality("cannot_matter", at_stake_voters, bounds)
    parts = len(base_lists) + 2
    names = [*(x.list_id for x in base_lists), "against all", "invalid ballots"]
    extremes = [
        (0,) * parts,
        *(tuple(at_stake_voters if j == k else 0 for j in range(parts)) for k in range(parts)),
    ]
    every = _every_split_count(at_stake_voters, parts) <= EVERY_SPLIT_LIMIT
    tried = itertools.chain(extremes, _splits(at_stake_voters, parts) if every else ())
    expected = _outcome(now)
    for extra in tried:
        if _outcome(table(extra)) != expected:
            given = (
                ", ".join(f"{n:,} to {name}" for n, name in zip(extra, names, strict=True) if n) or "no vote"
            )
            return Materiality("matters", at_stake_voters, bounds, f"the precincts at stake: {given}")
    return Materiality("cannot_matter" if every else "may_matter", at_stake_voters, bounds)
