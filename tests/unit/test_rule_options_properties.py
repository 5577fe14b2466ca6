"""Property-based checks of the profile options from real laws: seats sum, admission order, monotonicity."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.core.errors import RulesCannotDecide
from pipelines.rules.rule_profiles import ConsolationBand, Guarantee, RepresentedShare, RuleProfile
from pipelines.rules.seat_allocation import Allocation, ListVotes, allocate

DUMA_BANDS = (
    ConsolationBand(Fraction(5, 100), Fraction(6, 100), 1),
    ConsolationBand(Fraction(6, 100), Fraction(7, 100), 2),
)


@st.composite
def elections(draw: st.DrawFn) -> tuple[list[ListVotes], RuleProfile]:
    count = draw(st.integers(min_value=2, max_value=9))
    votes = draw(st.lists(st.integers(min_value=0, max_value=1_000_000), min_size=count, max_size=count))
    kinds = draw(st.lists(st.sampled_from(["party", "coalition"]), min_size=count, max_size=count))
    lists = [
        ListVotes(f"l{i}", f"List {i}", v, ballot_order=i + 1, kind=kinds[i]) for i, v in enumerate(votes)
    ]
    share = draw(st.none() | st.integers(min_value=1, max_value=100).map(lambda p: Fraction(p, 100)))
    more_than = draw(st.booleans()) and share != 1
    threshold = Fraction(draw(st.integers(min_value=0, max_value=20)), 100)
    seats = draw(st.sampled_from([10, 69, 100, 450]))
    consolation: tuple[ConsolationBand, ...] = ()
    if draw(st.booleans()):
        # the State Duma's bands (2009): a list that passes 7% of 450 seats never gets fewer than 2
        consolation = DUMA_BANDS
        threshold, seats = Fraction(7, 100), 450
    profile = RuleProfile(
        profile_id="prop",
        seats=seats,
        method=draw(st.sampled_from(["dhondt", "sainte-lague"])),
        threshold=threshold,
        threshold_base="valid_list_votes",
        guarantee=draw(
            st.sampled_from(
                [Guarantee(), Guarantee("proportional"), Guarantee("proportional", minimum_lists=3)]
            )
        ),
        represented_share=None if share is None else RepresentedShare(share, more_than),
        consolation=consolation,
        kind_thresholds=()
        if consolation
        else draw(
            st.sampled_from([(), (("coalition", Fraction(8, 100)),), (("coalition", Fraction(3, 100)),)])
        ),
    )
    return lists, profile


def _allocated(lists: list[ListVotes], profile: RuleProfile) -> Allocation | None:
    try:
        return allocate(lists, profile)
    except RulesCannotDecide:
        return None


@settings(max_examples=150, deadline=None)
@given(elections())
def test_seats_sum_lists_are_admitted_in_order_of_votes_and_bands_get_their_seats(
    case: tuple[list[ListVotes], RuleProfile],
) -> None:
    lists, profile = case
    allocation = _allocated(lists, profile)
    if allocation is None:
        return
    assert sum(r.seats for r in allocation.rows) == profile.seats
    admitted = [r for r in allocation.rows if r.admitted]
    left_out = [r for r in allocation.rows if not r.admitted and r.votes > 0]  # consoled or not
    if left_out:
        # whoever is admitted by a rule has at least the votes of any list left out
        by_rule = [r.votes for r in admitted if r.admitted_by_guarantee]
        if by_rule:
            assert min(by_rule) >= max(r.votes for r in left_out)
        rule = profile.represented_share
        if rule is not None:
            held = Fraction(sum(r.votes for r in admitted), sum(x.votes for x in lists))
            assert held > rule.share if rule.more_than else held >= rule.share
        minimum = profile.guarantee.minimum_lists or 2
        if profile.guarantee.variant != "none":
            assert len(admitted) >= minimum
    base = sum(x.votes for x in lists)
    kind_of = {x.list_id: x.kind for x in lists}
    for row in allocation.rows:
        needed = dict(profile.kind_thresholds).get(kind_of[row.list_id], profile.threshold)
        assert row.passed_threshold == (row.votes > 0 and Fraction(row.votes, base) >= needed)
        if not row.admitted:
            band = [
                b.seats
                for b in profile.consolation
                if row.votes and b.low <= Fraction(row.votes, base) < b.high
            ]
            assert row.seats == sum(band)


@settings(max_examples=150, deadline=None)
@given(elections(), st.data())
def test_more_votes_never_cost_a_list_seats(
    case: tuple[list[ListVotes], RuleProfile], data: st.DataObject
) -> None:
    lists, profile = case
    before = _allocated(lists, profile)
    if before is None:
        return
    n = data.draw(st.integers(min_value=0, max_value=len(lists) - 1))
    more = data.draw(st.integers(min_value=1, max_value=500_000))
    raised = [replace(x, votes=x.votes + more) if i == n else x for i, x in enumerate(lists)]
    after = _allocated(raised, profile)
    assert after is not None
    assert after.seats_of(lists[n].list_id) >= before.seats_of(lists[n].list_id)
