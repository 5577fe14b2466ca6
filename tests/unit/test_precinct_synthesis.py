"""The synthetic breakdown: exact apportionment, exact margins, protocol arithmetic, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.synthetic.precinct_synthesis import NationalTotals, RegionShape, apportion, synthesise

REGIONS = (
    RegionShape("north", 500, 0.75),
    RegionShape("capital", 1200, 0.35, is_city=True),
    RegionShape("south", 900, 0.9),
)
TOTALS = NationalTotals(
    registered_voters=2_600_000,
    ballots_cast=1_700_000,
    invalid_ballots=21_000,
    against_all=40_000,
    list_votes=(1_200_000, 250_000, 150_000, 38_999, 1),
)


@given(
    total=st.integers(0, 10**7),
    weights=st.lists(st.integers(0, 2**30 - 1), min_size=1, max_size=50),
)
def test_apportion_sums_exactly_and_stays_near_quota(total: int, weights: list[int]) -> None:
    w = np.array(weights, dtype=np.int64)
    result = apportion(total, w)
    assert int(result.sum()) == total
    if w.sum() > 0:
        quota = [total * x / int(w.sum()) for x in weights]
        assert all(abs(r - q) < 1 for r, q in zip(result.tolist(), quota, strict=True))


@settings(max_examples=200)
@given(data=st.data())
def test_apportion_with_caps_never_exceeds_a_cap(data: st.DataObject) -> None:
    caps = data.draw(st.lists(st.integers(0, 1000), min_size=1, max_size=30))
    weights = data.draw(st.lists(st.integers(0, 10**6), min_size=len(caps), max_size=len(caps)))
    total = data.draw(st.integers(0, sum(caps)))
    result = apportion(total, np.array(weights, dtype=np.int64), caps=np.array(caps, dtype=np.int64))
    assert int(result.sum()) == total
    assert (result <= np.array(caps)).all() and (result >= 0).all()


def test_apportion_refuses_caps_below_the_total() -> None:
    with pytest.raises(ValueError, match="caps"):
        apportion(10, np.array([1, 1]), caps=np.array([4, 5]))


def test_margins_equal_the_national_totals_exactly() -> None:
    table = synthesise(REGIONS, TOTALS, 3000, seed=7)
    assert len(table) == 3000
    assert int(table.registered_voters.sum()) == TOTALS.registered_voters
    assert int(table.ballots_cast.sum()) == TOTALS.ballots_cast
    assert int(table.invalid_ballots.sum()) == TOTALS.invalid_ballots
    assert int(table.against_all.sum()) == TOTALS.against_all
    assert table.votes.sum(axis=0).tolist() == list(TOTALS.list_votes)


def test_every_precinct_protocol_adds_up() -> None:
    table = synthesise(REGIONS, TOTALS, 3000, seed=11)
    counted = table.votes.sum(axis=1) + table.against_all + table.invalid_ballots
    assert (counted == table.ballots_cast).all()
    assert (table.ballots_cast <= table.ballots_issued).all()
    assert (table.ballots_issued <= table.registered_voters).all()
    assert (table.votes >= 0).all() and (table.invalid_ballots >= 0).all()


def test_regional_turnout_follows_the_region_shapes() -> None:
    table = synthesise(REGIONS, TOTALS, 3000, seed=3)
    turnout = []
    for i in range(len(REGIONS)):
        rows = table.region_index == i
        turnout.append(table.ballots_cast[rows].sum() / table.registered_voters[rows].sum())
    # capital (0.35) < north (0.75) < south (0.9), whatever the national rescaling
    assert turnout[1] < turnout[0] < turnout[2]


def test_same_seed_same_table_other_seed_other_precincts() -> None:
    first = synthesise(REGIONS, TOTALS, 500, seed=5)
    again = synthesise(REGIONS, TOTALS, 500, seed=5)
    other = synthesise(REGIONS, TOTALS, 500, seed=6)
    assert np.array_equal(first.votes, again.votes)
    assert np.array_equal(first.registered_voters, again.registered_voters)
    assert not np.array_equal(first.votes, other.votes)
    assert other.votes.sum(axis=0).tolist() == first.votes.sum(axis=0).tolist()


def test_inconsistent_totals_are_refused() -> None:
    bad = NationalTotals(1000, 500, 10, 0, (400, 80))
    with pytest.raises(ValueError, match="do not add up"):
        synthesise(REGIONS, bad, 10, seed=1)
