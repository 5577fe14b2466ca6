"""Property-based checks of the allocation engine (hypothesis)."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.core.errors import RulesCannotDecide
from pipelines.rules.rule_profiles import METHODS, Guarantee, RuleProfile
from pipelines.rules.seat_allocation import ListVotes, allocate


@st.composite
def elections(draw: st.DrawFn) -> tuple[list[ListVotes], RuleProfile, int]:
    count = draw(st.integers(min_value=1, max_value=8))
    votes = draw(st.lists(st.integers(min_value=0, max_value=2_000_000), min_size=count, max_size=count))
    orders = draw(st.permutations(range(1, count + 1)))
    lengths = draw(
        st.lists(st.none() | st.integers(min_value=0, max_value=40), min_size=count, max_size=count)
    )
    lists = [ListVotes(f"l{i}", f"List {i}", v, orders[i], lengths[i]) for i, v in enumerate(votes)]
    guarantee = draw(
        st.sampled_from(
            [Guarantee(), Guarantee("proportional"), Guarantee("correction_index", Fraction(7, 10), 2)]
        )
    )
    profile = RuleProfile(
        profile_id="prop",
        seats=draw(st.integers(min_value=1, max_value=120)),
        method=draw(st.sampled_from(METHODS)),
        threshold=Fraction(draw(st.integers(min_value=0, max_value=20)), 100),
        threshold_base=draw(st.sampled_from(["valid_list_votes", "valid_list_votes_plus_against_all"])),
        guarantee=guarantee,
        vacant_seats=draw(st.sampled_from(["leave_vacant", "redistribute"])),
    )
    against_all = draw(st.integers(min_value=0, max_value=100_000))
    return lists, profile, against_all


def _passes(item: ListVotes, base: int, threshold: Fraction) -> bool:
    return item.votes > 0 and item.votes * threshold.denominator >= threshold.numerator * base


def _base(lists: list[ListVotes], profile: RuleProfile, against_all: int) -> int:
    extra = against_all if profile.threshold_base == "valid_list_votes_plus_against_all" else 0
    return sum(x.votes for x in lists) + extra


@settings(max_examples=300, deadline=None)
@given(elections())
def test_seats_sum_and_threshold_is_respected(case: tuple[list[ListVotes], RuleProfile, int]) -> None:
    lists, profile, against_all = case
    base = _base(lists, profile, against_all)
    passing = [x for x in lists if _passes(x, base, profile.threshold)]
    try:
        allocation = allocate(lists, profile, against_all=against_all)
    except RulesCannotDecide as exc:
        # every list has its own ballot order, so only "no list passes" (or Droop's degenerate case) refuses
        assert not passing or "Droop" in str(exc), str(exc)
        return
    assert passing
    assert sum(r.seats for r in allocation.rows) == profile.seats
    length = {x.list_id: x.candidates for x in lists}
    for row in allocation.rows:
        assert row.seats == row.integer_seats + row.remainder_seat + row.redistributed_seats
        assert 0 <= row.vacant_seats <= row.seats
        candidates = length[row.list_id]
        if candidates is not None:
            assert row.filled_seats <= candidates
            if profile.vacant_seats == "leave_vacant":
                assert row.vacant_seats == max(0, row.seats - candidates)
        else:
            assert row.vacant_seats == 0
    for row in allocation.rows:
        assert row.passed_threshold == (row.list_id in {x.list_id for x in passing})
        if not row.passed_threshold and not row.admitted_by_guarantee:
            assert row.seats == 0
    admitted_by_guarantee = [r for r in allocation.rows if r.admitted_by_guarantee]
    if admitted_by_guarantee:
        assert len(passing) == 1 and profile.guarantee.variant != "none"
        runner_up_votes = max(x.votes for x in lists if x.list_id != passing[0].list_id)
        assert admitted_by_guarantee[0].votes == runner_up_votes


@settings(max_examples=300, deadline=None)
@given(elections())
def test_hare_gives_each_admitted_list_floor_or_ceiling_of_its_quota(
    case: tuple[list[ListVotes], RuleProfile, int],
) -> None:
    lists, profile, against_all = case
    profile = RuleProfile(
        "prop", profile.seats, "hare", profile.threshold, profile.threshold_base, Guarantee("proportional")
    )
    try:
        allocation = allocate(lists, profile, against_all=against_all)
    except RulesCannotDecide:
        return
    admitted = [r for r in allocation.rows if r.passed_threshold or r.admitted_by_guarantee]
    total = sum(r.votes for r in admitted)
    for row in admitted:
        exact = Fraction(row.votes * profile.seats, total)
        floor = exact.numerator // exact.denominator
        assert row.seats in (floor, floor + 1) if exact.denominator > 1 else row.seats == floor


@settings(max_examples=200, deadline=None)
@given(elections(), st.randoms(use_true_random=False), st.sets(st.integers(min_value=0, max_value=7)))
def test_result_does_not_depend_on_input_order(
    case: tuple[list[ListVotes], RuleProfile, int], rnd: random.Random, unordered: set[int]
) -> None:
    lists, profile, against_all = case
    # some lists without a ballot order: their ties are refused, whatever the input order
    lists = [replace(x, ballot_order=None) if i in unordered else x for i, x in enumerate(lists)]
    shuffled = list(lists)
    rnd.shuffle(shuffled)
    try:
        first = allocate(lists, profile, against_all=against_all)
    except RulesCannotDecide as exc:
        try:
            allocate(shuffled, profile, against_all=against_all)
        except RulesCannotDecide as again:
            assert str(again) == str(exc)
            return
        raise AssertionError("refusal depends on input order") from None
    second = allocate(shuffled, profile, against_all=against_all)
    assert json.dumps(first.to_records()) == json.dumps(second.to_records())
    assert first.explanation == second.explanation
