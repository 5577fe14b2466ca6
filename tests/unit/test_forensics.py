"""The forensic statistics on constructed data: each flags what it should and not what it should not."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.audit.forensics import (
    FLAG_LEVEL,
    chi_square_sf_9,
    comet_histogram,
    integer_peak_test,
    integer_peak_tests,
    last_digit_test,
    on_integer_percent,
    percent_histogram,
)
from pipelines.audit.forensics_charts import comet_svg, png_bytes
from pipelines.audit.forensics_screen import StationCounts, screen
from pipelines.synthetic.manipulation import Manipulation
from pipelines.synthetic.precinct_synthesis import NationalTotals, RegionShape, synthesise


def ints(values: object) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def test_a_count_is_on_an_integer_percent_when_it_is_the_count_nearest_to_one() -> None:
    # 60% of 1,234 is 740.4: 740 is what a protocol aiming at 60% carries; 741 is 60.05%.
    assert on_integer_percent(ints([740, 741, 0, 1234, 50]), ints([1234, 1234, 1234, 1234, 0])).tolist() == [
        True,
        False,
        True,
        True,
        False,
    ]
    # A station of 100: every count is an integer percent.
    assert on_integer_percent(ints(range(101)), ints([100] * 101)).all()


def binomial_stations(seed: int, n: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(600, 2500, n)
    return rng.binomial(sizes, rng.uniform(0.4, 0.8, n)).astype(np.int64), sizes.astype(np.int64)


def test_binomial_counts_raise_no_integer_peak_and_rewritten_ones_do() -> None:
    counts, sizes = binomial_stations(1)
    clean = integer_peak_test(counts, sizes, draws=100, seed=3)
    assert not clean.flagged and clean.p_value > 0.05
    assert abs(clean.observed - clean.null_mean) < 3 * np.sqrt(clean.null_mean)
    # A tenth of the stations rewritten to 70%: the nearest count to it.
    rewritten = counts.copy()
    rewritten[::10] = (2 * 70 * sizes[::10] + 100) // 200
    peaked = integer_peak_test(rewritten, sizes, draws=100, seed=3)
    assert peaked.flagged and peaked.p_value == pytest.approx(1 / 101)
    assert peaked.observed >= clean.observed + 150


def test_the_chi_square_tail_of_9_degrees_of_freedom_matches_its_tables() -> None:
    assert chi_square_sf_9(0.0) == 1.0
    assert chi_square_sf_9(16.919) == pytest.approx(0.05, abs=1e-4)
    assert chi_square_sf_9(21.666) == pytest.approx(0.01, abs=1e-4)
    assert chi_square_sf_9(8.343) == pytest.approx(0.50, abs=1e-3)


def test_uniform_last_digits_are_not_flagged_and_round_numbers_are() -> None:
    uniform = last_digit_test(ints(range(300, 1300)))
    assert uniform.counts == (100,) * 10 and uniform.chi_square == 0.0 and uniform.p_value == 1.0
    assert not uniform.flagged
    # Counts under 300 are left out: a small list's votes favour low last digits by themselves.
    assert last_digit_test(ints([10, 11, 21, 31, 99, 299])).tested == 0
    rounded = ints([*range(300, 1300), *([500] * 60)])
    test = last_digit_test(rounded)
    assert test.flagged and test.p_value < FLAG_LEVEL and test.counts[0] == 160


def test_the_comet_weights_by_voters_and_puts_100_percent_in_the_last_bin() -> None:
    grid = comet_histogram(np.array([0.5, 1.0, 0.505]), np.array([0.2, 1.0, 0.209]), ints([10, 3, 5]))
    assert grid[50, 20] == 15 and grid[99, 99] == 3 and int(grid.sum()) == 18
    assert percent_histogram(np.array([0.6, 0.6, 0.6004, 1.0])).tolist()[600] == 3


def test_images_are_a_valid_png_signature_and_an_svg_that_says_screening() -> None:
    png = png_bytes(np.zeros((2, 3, 3), dtype=np.uint8))
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and png.endswith(b"IEND\xaeB`\x82")
    svg = comet_svg(np.eye(100, dtype=np.int64), title="a <b>")
    assert "a &lt;b&gt;" in svg and "Screening, not proof" in svg


def small_election(manipulation: Manipulation | None) -> StationCounts:
    shapes = [RegionShape("a", 1, 0.6), RegionShape("b", 1, 0.7)]
    totals = NationalTotals(1_200_000, 780_000, 7_800, 0, (500_000, 172_200, 100_000))
    table = synthesise(shapes, totals, 1000, seed=5, manipulation=manipulation)
    return StationCounts(
        table.region_index,
        ("a", "b"),
        ("x", "y", "z"),
        table.registered_voters,
        table.ballots_cast,
        table.votes,
    )


def test_manipulation_keeps_protocols_adding_up_and_rounding_is_flagged() -> None:
    totals = NationalTotals(1_200_000, 780_000, 7_800, 0, (500_000, 172_200, 100_000))
    shapes = [RegionShape("a", 1, 0.6), RegionShape("b", 1, 0.7)]
    table = synthesise(shapes, totals, 1000, seed=5, manipulation=Manipulation(0.2, 0.5, 0.3, 5, 0.3))
    counted = table.votes.sum(axis=1) + table.against_all + table.invalid_ballots
    assert (counted == table.ballots_cast).all()
    assert (table.ballots_cast <= table.ballots_issued).all()
    assert (table.ballots_issued <= table.registered_voters).all()
    assert int(table.votes[:, 0].sum()) > 500_000  # the leader gained; the others did not move
    assert table.votes[:, 1:].sum(axis=0).tolist() == [172_200, 100_000]

    clean = screen(small_election(None), draws=100, regions=False)
    assert clean.national.flags == ()
    rounded = screen(small_election(Manipulation(rounding_share=0.2)), draws=100, regions=False)
    assert "turnout_peaks" in rounded.national.flags
    assert [r.scope for r in screen(small_election(None), draws=5).regions] != []


def test_the_null_stops_early_only_where_all_its_draws_could_not_flag() -> None:
    counts, sizes = binomial_stations(2, n=800)
    rewritten = counts.copy()
    rewritten[::8] = (2 * 60 * sizes[::8] + 100) // 200
    for data in (counts, rewritten, counts[:50], rewritten[:100]):
        for seed in range(6):
            early = integer_peak_test(data, sizes[: data.size], draws=200, seed=seed)
            full = integer_peak_test(data, sizes[: data.size], draws=200, seed=seed, stop_at=201)
            assert full.draws == 200 and early.flagged == full.flagged
            if early.draws < 200:  # stopped: 10 draws reached the observed count, p = 10 / draws made
                assert early.p_value == 10 / early.draws >= 0.05
            else:
                assert early.p_value == full.p_value


def test_one_null_serves_the_nation_and_each_region() -> None:
    counts, sizes = binomial_stations(4)
    regions = np.arange(counts.size, dtype=np.int64) % 3
    rewritten = counts.copy()
    in_region_2 = np.flatnonzero(regions == 2)[::5]  # a fifth of region 2 rewritten to 70%
    rewritten[in_region_2] = (2 * 70 * sizes[in_region_2] + 100) // 200
    national, by_region = integer_peak_tests(rewritten, sizes, regions, 3, draws=200, seed=4)
    # The nation's test is the test of all the stations alone: the same draws, in the same order.
    assert national == integer_peak_test(rewritten, sizes, draws=200, seed=4)
    assert [r.stations for r in by_region] == [667, 667, 666]
    assert sum(r.observed for r in by_region) == national.observed
    assert [r.flagged for r in by_region] == [False, False, True] and national.flagged
    assert by_region[2].draws == 200 and by_region[0].draws < 200
