"""Materiality of the quarantine against brute force: 'cannot matter' and 'matters' are always true."""

from __future__ import annotations

import random
from dataclasses import replace
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.rules.quarantine_materiality import Counted, quarantine_materiality
from pipelines.rules.rule_profiles import Guarantee, RuleProfile
from pipelines.rules.seat_allocation import ListVotes
from tests.unit.test_certainty_bounds import Count, every_completion


def _profile(seats: int, percent: int, guarantee: Guarantee) -> RuleProfile:
    return RuleProfile(
        profile_id="materiality",
        seats=seats,
        method="hare",
        threshold=Fraction(percent, 100),
        threshold_base="valid_list_votes_plus_against_all",
        guarantee=guarantee,
    )


def _outcome(count: Count, profile: RuleProfile) -> object:
    allocation = count.allocation(profile)
    return None if allocation is None else [(r.seats, r.passed_threshold) for r in allocation.rows]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 30), min_size=2, max_size=3),
    st.lists(st.integers(0, 3), min_size=1, max_size=2),
    st.integers(1, 5),
    st.sampled_from([0, 10, 25]),
    st.sampled_from([Guarantee(), Guarantee("proportional")]),
    st.randoms(use_true_random=False),
)
def test_the_verdict_on_a_small_quarantine_is_what_brute_force_finds(
    votes: list[int],
    registered: list[int],
    seats: int,
    percent: int,
    guarantee: Guarantee,
    rng: random.Random,
) -> None:
    lists = tuple(ListVotes(f"l{i}", f"L{i}", v, ballot_order=i + 1) for i, v in enumerate(votes))
    base = Count(lists, 1, 1, True)
    profile = _profile(seats, percent, guarantee)
    # what the precincts at stake count now: a random split of each one's registered voters
    parts = len(lists) + 2
    counted = [0] * parts
    for r in registered:
        for _ in range(rng.randint(0, r)):
            counted[rng.randrange(parts)] += 1
    now = base.completed(counted)
    expected = _outcome(now, profile)
    if expected is None:
        return  # no table now: nothing to compare with
    verdict = quarantine_materiality(
        now.lists,
        profile,
        sum(registered),
        Counted({x.list_id: n for x, n in zip(lists, counted, strict=False)}, counted[-2], counted[-1]),
        against_all=now.against_all,
        invalid=now.invalid,
        ballots_cast=now.ballots_cast,
    )
    changes = any(
        _outcome(base.completed(extra), profile) != expected for extra in every_completion(registered, parts)
    )
    assert verdict.verdict == ("matters" if changes else "cannot_matter"), verdict
    if changes:
        assert verdict.witness


def test_a_large_quarantine_is_proven_harmless_or_shown_to_matter() -> None:
    lists = tuple(
        ListVotes(f"l{i}", f"L{i}", v, ballot_order=i + 1)
        for i, v in enumerate([52_000, 30_000, 12_000, 900])
    )
    profile = _profile(50, 5, Guarantee())
    base = Count(lists, 1_000, 2_000, True)
    # 300 voters at stake, 250 of them counted now on l0: cannot move a seat of 50 at ~96,000 votes
    small = base.completed((250, 0, 0, 0, 0, 0))
    verdict = quarantine_materiality(
        small.lists,
        profile,
        300,
        Counted({"l0": 250}),
        against_all=small.against_all,
        invalid=small.invalid,
        ballots_cast=small.ballots_cast,
    )
    assert verdict.verdict == "cannot_matter" and verdict.bounds is not None and verdict.bounds.decided == 50
    # 5,000 voters at stake: all of them on l0 moves a seat (on l3, it passes the threshold)
    verdict = quarantine_materiality(
        base.lists,
        profile,
        5_000,
        Counted({}),
        against_all=base.against_all,
        invalid=base.invalid,
        ballots_cast=base.ballots_cast,
    )
    assert verdict.verdict == "matters" and verdict.witness == "the precincts at stake: 5,000 to l0"
    more = replace(
        base, lists=tuple(replace(x, votes=x.votes + (5_000 if x.list_id == "l3" else 0)) for x in lists)
    )
    assert _outcome(more, profile) != _outcome(base, profile)
    # not bounded (a file refused whole names no precinct)
    unbounded = quarantine_materiality(base.lists, profile, None, Counted({}), invalid=base.invalid)
    assert unbounded.verdict == "may_matter" and unbounded.bounds is None
