"""Certainty bounds against the project's own allocation: every completion of small elections enumerated,
random and extreme completions of larger ones; no final outcome may fall outside the bounds."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pipelines.core.errors import InputError, RulesCannotDecide
from pipelines.rules.certainty_bounds import SeatBounds, certainty_bounds
from pipelines.rules.rule_profiles import ConsolationBand, Guarantee, RepresentedShare, RuleProfile
from pipelines.rules.seat_allocation import Allocation, ListVotes, allocate


@dataclass(frozen=True)
class Count:
    """Counts so far: list votes, 'against all', invalid; ballots cast given or not; the electorate."""

    lists: tuple[ListVotes, ...]
    against_all: int
    invalid: int
    give_ballots_cast: bool
    registered_voters: int = 100

    def completed(self, extra: Sequence[int]) -> Count:
        """`extra`: one addition per list, then 'against all', then invalid."""
        n = len(self.lists)
        lists = tuple(replace(x, votes=x.votes + a) for x, a in zip(self.lists, extra[:n], strict=True))
        return replace(
            self, lists=lists, against_all=self.against_all + extra[n], invalid=self.invalid + extra[n + 1]
        )

    @property
    def ballots_cast(self) -> int | None:
        cast = sum(x.votes for x in self.lists) + self.against_all + self.invalid
        return cast if self.give_ballots_cast else None

    def bounds(self, profile: RuleProfile, outstanding: int | None) -> SeatBounds:
        return certainty_bounds(
            self.lists,
            profile,
            outstanding,
            against_all=self.against_all,
            invalid=self.invalid,
            ballots_cast=self.ballots_cast,
            registered_voters=self.registered_voters,
        )

    def allocation(self, profile: RuleProfile) -> Allocation | None:
        try:
            return allocate(
                self.lists,
                profile,
                against_all=self.against_all,
                invalid=self.invalid,
                ballots_cast=self.ballots_cast,
                registered_voters=self.registered_voters,
            )
        except RulesCannotDecide:
            return None  # no seats to contain


def splits(ballots: int, parts: int) -> Iterator[tuple[int, ...]]:
    """Every way up to `ballots` ballots fall into `parts` piles (the rest do not vote)."""
    for cuts in itertools.combinations(range(ballots + parts), parts):
        piles = [cuts[0]] + [b - a - 1 for a, b in itertools.pairwise(cuts)]
        yield tuple(piles)


def every_completion(precincts: Sequence[int], parts: int) -> set[tuple[int, ...]]:
    """The totals every split of every outstanding precinct adds (the same totals counted once)."""
    reached = {(0,) * parts}
    for registered in precincts:
        reached = {
            tuple(map(sum, zip(r, s, strict=True))) for r in reached for s in splits(registered, parts)
        }
    return reached


def assert_contains(bounds: SeatBounds, allocation: Allocation | None, where: object) -> None:
    if allocation is None:
        return
    by_id = {b.list_id: b for b in bounds.lists}
    for row in allocation.rows:
        b = by_id[row.list_id]
        assert b.min_seats <= row.seats <= b.max_seats, (where, b, row.seats)
        assert b.status != "certain" or row.passed_threshold, (where, b)
        assert b.status != "out" or not row.passed_threshold, (where, b)


def profile_of(seats: int, method: str, percent: int, base: str, **options: object) -> RuleProfile:
    """The profile, or the test case rejected when the options do not fit (a band above the threshold)."""
    try:
        return checked_profile(seats, method, percent, base, **options)
    except InputError:
        assume(False)
        raise


def checked_profile(seats: int, method: str, percent: int, base: str, **options: object) -> RuleProfile:
    return RuleProfile(
        profile_id="bounds",
        seats=seats,
        method=method,
        threshold=Fraction(percent, 100),
        threshold_base=base,
        **options,  # type: ignore[arg-type]
    )


BASES = ["valid_list_votes", "valid_list_votes_plus_against_all", "ballots_cast", "registered_voters"]
OPTIONS: list[dict[str, object]] = [
    {},
    {"guarantee": Guarantee("proportional")},
    {"guarantee": Guarantee("correction_index", index=Fraction(7, 10), minimum_seats=1)},
    {"guarantee": Guarantee("correction_index", index=Fraction(7, 10), minimum_seats=2)},
    {"guarantee": Guarantee("proportional", minimum_lists=3)},
    {"represented_share": RepresentedShare(Fraction(1, 2))},
    {"consolation": (ConsolationBand(Fraction(5, 100), Fraction(7, 100), 1),)},
    {"vacant_seats": "redistribute"},
    {"kind_thresholds": (("coalition", Fraction(30, 100)),)},
]


@st.composite
def small_elections(draw: st.DrawFn) -> tuple[Count, RuleProfile, list[int]]:
    n = draw(st.integers(min_value=2, max_value=3))
    votes = draw(st.lists(st.integers(min_value=0, max_value=12), min_size=n, max_size=n))
    candidates = draw(st.lists(st.none() | st.integers(0, 3), min_size=n, max_size=n))
    kinds = draw(st.lists(st.sampled_from(["party", "coalition"]), min_size=n, max_size=n))
    lists = tuple(
        ListVotes(f"l{i}", f"L{i}", v, ballot_order=i + 1, candidates=c, kind=k)
        for i, (v, c, k) in enumerate(zip(votes, candidates, kinds, strict=True))
    )
    count = Count(
        lists,
        draw(st.integers(0, 3)),
        draw(st.integers(0, 3)),
        draw(st.booleans()),
        draw(st.integers(40, 60)),
    )
    profile = profile_of(
        draw(st.integers(min_value=1, max_value=5)),
        draw(st.sampled_from(["hare", "hare", "hare", "droop", "dhondt"])),
        draw(st.sampled_from([0, 10, 20, 34, 50])),
        draw(st.sampled_from(BASES)),
        **draw(st.sampled_from(OPTIONS)),
    )
    precincts = draw(st.lists(st.integers(min_value=0, max_value=2), min_size=1, max_size=3))
    return count, profile, precincts


@settings(max_examples=100, deadline=None)
@given(small_elections())
def test_every_completion_of_a_small_election_lies_inside_the_bounds(
    case: tuple[Count, RuleProfile, list[int]],
) -> None:
    count, profile, precincts = case
    if sum(precincts) == 0 and count.allocation(profile) is None:
        with pytest.raises(RulesCannotDecide):
            count.bounds(profile, 0)
        return
    bounds = count.bounds(profile, sum(precincts))
    for extra in every_completion(precincts, len(count.lists) + 2):
        assert_contains(bounds, count.completed(extra).allocation(profile), extra)


def test_a_four_list_election_enumerated_in_full_and_the_bounds_are_not_trivial() -> None:
    lists = tuple(ListVotes(f"l{i}", f"L{i}", v, ballot_order=i + 1) for i, v in enumerate([40, 22, 9, 4]))
    count = Count(lists, 2, 1, False)
    profile = profile_of(7, "hare", 10, "valid_list_votes")
    bounds = count.bounds(profile, 5)
    completions = every_completion([2, 3], len(lists) + 2)
    assert len(completions) == 462
    for extra in completions:
        assert_contains(bounds, count.completed(extra).allocation(profile), extra)
    assert bounds.fallback is None
    assert [(b.status, b.min_seats, b.max_seats) for b in bounds.lists] == [
        ("certain", 3, 4),
        ("certain", 2, 2),
        ("certain", 1, 1),
        ("open", 0, 1),
    ]
    assert bounds.decided == 6  # exactly what the enumeration reaches


def test_the_population_paradox_is_contained() -> None:
    # Largest remainder is not monotonic: l1 grows fastest (6 -> 8 votes, +33%) and loses its seat.
    lists = tuple(ListVotes(f"l{i}", f"L{i}", v, ballot_order=i + 1) for i, v in enumerate([37, 6, 18]))
    count = Count(lists, 0, 0, False)
    profile = profile_of(5, "hare", 0, "valid_list_votes")
    bounds = count.bounds(profile, 8)
    now, later = count.allocation(profile), count.completed((2, 2, 4, 0, 0)).allocation(profile)
    assert now is not None and later is not None
    assert [r.seats for r in now.rows] == [3, 1, 1] and [r.seats for r in later.rows] == [3, 0, 2]
    assert_contains(bounds, now, "now")
    assert_contains(bounds, later, "later")


@pytest.mark.parametrize("options", [*OPTIONS, {"method": "dhondt"}, {"method": "droop"}])
def test_nothing_outstanding_collapses_to_the_final_seats(options: dict[str, object]) -> None:
    lists = tuple(
        ListVotes(f"l{i}", f"L{i}", v, ballot_order=i + 1) for i, v in enumerate([500, 300, 70, 40])
    )
    count = Count(lists, 10, 5, True)
    options = dict(options)
    profile = checked_profile(20, str(options.pop("method", "hare")), 7, "ballots_cast", **options)
    bounds = count.bounds(profile, 0)
    allocation = count.allocation(profile)
    assert allocation is not None and bounds.exact and bounds.fallback is None
    assert [(b.min_seats, b.max_seats) for b in bounds.lists] == [(r.seats, r.seats) for r in allocation.rows]
    assert [b.status == "certain" for b in bounds.lists] == [r.passed_threshold for r in allocation.rows]
    assert bounds.decided == 20


def test_what_is_not_bounded_falls_back_to_every_seat() -> None:
    lists = tuple(ListVotes(f"l{i}", f"L{i}", v, ballot_order=i + 1) for i, v in enumerate([500, 300, 200]))
    count = Count(lists, 0, 0, False)
    dhondt = count.bounds(checked_profile(10, "dhondt", 5, "valid_list_votes"), 10)
    assert dhondt.fallback is not None and "dhondt" in dhondt.fallback
    assert [(b.min_seats, b.max_seats) for b in dhondt.lists] == [(0, 10)] * 3
    assert [b.status for b in dhondt.lists] == ["certain"] * 3  # the threshold is still bounded
    unbounded = count.bounds(checked_profile(10, "hare", 5, "valid_list_votes"), None)
    assert unbounded.fallback is not None and {b.status for b in unbounded.lists} == {"open"}
    guarantee = count.bounds(
        checked_profile(
            10, "hare", 40, "valid_list_votes", guarantee=Guarantee("proportional", minimum_lists=3)
        ),
        10,
    )
    assert guarantee.fallback is not None and "guarantee" in guarantee.fallback


def _random_completions(rng: random.Random, parts: int, outstanding: int) -> Iterator[tuple[int, ...]]:
    yield (0,) * parts  # nobody votes
    for k in range(parts):  # everything on one list, on 'against all', on invalid
        yield tuple(outstanding if j == k else 0 for j in range(parts))
    for _ in range(12):
        voting = rng.randint(0, outstanding)
        cuts = sorted(rng.randint(0, voting) for _ in range(parts - 1))
        yield tuple(b - a for a, b in itertools.pairwise([0, *cuts, voting]))
        # two lists only: the others' quotas move the most
        i, j = rng.sample(range(parts), 2)
        part = rng.randint(0, voting)
        yield tuple(part if k == i else voting - part if k == j else 0 for k in range(parts))


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False), st.sampled_from(BASES), st.sampled_from(OPTIONS))
def test_random_and_extreme_completions_of_larger_elections(
    rng: random.Random, base: str, options: dict[str, object]
) -> None:
    n = rng.randint(3, 7)
    lists = tuple(
        ListVotes(
            f"l{i}",
            f"L{i}",
            rng.choice([0, rng.randint(1, 200), rng.randint(1, 5000)]),
            ballot_order=i + 1,
            kind=rng.choice(["party", "coalition"]),
        )
        for i in range(n)
    )
    count = Count(
        lists, rng.randint(0, 300), rng.randint(0, 300), rng.random() < 0.5, rng.randint(20_000, 60_000)
    )
    profile = profile_of(rng.choice([5, 13, 50, 98]), "hare", rng.choice([3, 5, 7, 12]), base, **options)
    outstanding = rng.choice([1, 50, 500, 5000])
    bounds = count.bounds(profile, outstanding)
    for extra in _random_completions(rng, n + 2, outstanding):
        assert_contains(bounds, count.completed(extra).allocation(profile), extra)
