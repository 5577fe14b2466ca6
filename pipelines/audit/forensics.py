"""Election forensics on polling-station counts: screening statistics, never proof of fraud.

Three families of tests used by observers and researchers, on plain integer arrays (one entry per
counted station) so they run the same on a warehouse's stations and on simulated elections:

- the comet plot: a 2D histogram of turnout against the leader's share, weighted by voters
  (ballot stuffing draws a tail towards high turnout and high leader share);
- integer-percentage peaks (Kobak, Shpilkin and Pshenichnikov, 2016): how many stations sit exactly on
  an integer percent of turnout or of a list's share, against a Monte-Carlo null of the same station
  sizes (protocols rewritten to a target figure pile up there);
- last digits (Beber and Scacco, 2012): the last digit of vote counts of 300 or more against uniform.

A flag says a pattern is unlikely under the null at the stated level; many innocent causes (a
region's customs, small stations, data entry) can raise one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

SCREENING_NOTE = (
    "Screening, not proof: these statistics flag patterns that manipulation can leave; "
    "innocent causes can raise them too, and their absence proves nothing."
)

# The stated level of every flag: a test flags when its p-value is below it.
FLAG_LEVEL = 0.01
# Monte-Carlo draws of the integer-peak null; the smallest p-value they can give is 1/(draws + 1).
NULL_DRAWS = 200
# A null stops drawing once this many of its draws have reached the observed count (Besag and
# Clifford, 1991): such a test can no longer flag, and its p-value is this number over the draws made.
# With 10 and 200 draws, p-values of 0.05 and more are estimates within about a third of themselves
# (one standard error); every test that could flag makes all its draws, so flags are unchanged.
NULL_STOP_AT = 10
# The rate each null draw uses is the station's own rate blurred by this much (a share, 0..1), so a
# station that sits on an integer percent does not carry its peak into the null.
NULL_RATE_BLUR = 0.01
# Last digits are uniform only for counts spread over many tens: below a few hundred a count's density
# falls across its own decade (a small list's votes favour low last digits), which the test would flag.
# On clean simulated elections (docs/forensics.md) 100 flagged 3.5% of them at the 1% level, 300 1.0%.
LAST_DIGIT_MIN_COUNT = 300


@dataclass(frozen=True)
class PeakTest:
    """Stations on an integer percent: observed, expected under the null, and the p-value."""

    stations: int
    observed: int
    null_mean: float
    p_value: float
    draws: int = 0  # null draws made: fewer than asked when the null stopped early

    @property
    def flagged(self) -> bool:
        return self.p_value < FLAG_LEVEL


@dataclass(frozen=True)
class DigitTest:
    """Last digits of counts >= LAST_DIGIT_MIN_COUNT against uniform: per digit 0-9, chi-square (9 df), p."""

    counts: tuple[int, ...]
    chi_square: float
    p_value: float

    @property
    def tested(self) -> int:
        return sum(self.counts)

    @property
    def flagged(self) -> bool:
        return self.tested > 0 and self.p_value < FLAG_LEVEL


def on_integer_percent(counts: IntArray, sizes: IntArray) -> npt.NDArray[np.bool_]:
    """Whether each count is the count nearest to an integer percent of its size (exact integers).

    A station of 1,234 voters cannot show exactly 60%, but 740 is the count a protocol aiming at 60%
    would carry: it is nearest to 60% of 1,234. Stations of size 0 are never on one.
    """
    counts = np.asarray(counts, dtype=np.int64)
    sizes = np.asarray(sizes, dtype=np.int64)
    safe = np.maximum(sizes, 1)
    nearest_percent = (200 * counts + safe) // (2 * safe)
    nearest_count = (2 * nearest_percent * safe + 100) // 200
    hit: npt.NDArray[np.bool_] = (nearest_count == counts) & (sizes > 0)
    return hit


def integer_peak_test(
    counts: IntArray, sizes: IntArray, *, draws: int = NULL_DRAWS, seed: int = 0, stop_at: int = NULL_STOP_AT
) -> PeakTest:
    """Are more stations on an integer percent than binomial counts of the same sizes would put there?

    Each null draw gives every station a binomial count of its own size at its own rate blurred by
    NULL_RATE_BLUR. The p-value is (1 + draws at least as high as observed) / (1 + draws); a null
    that reaches `stop_at` such draws stops there with p = stop_at / draws made (Besag and Clifford's
    sequential Monte-Carlo p-value, as valid as the full one). It never stops before the full null
    has lost the power to flag (at least FLAG_LEVEL * draws such draws), and the draws it makes are
    the full null's first ones, in order: it flags exactly where all the draws would.
    """
    counts = np.asarray(counts, dtype=np.int64)
    national, _ = integer_peak_tests(
        counts, sizes, np.zeros(counts.size, dtype=np.int64), 0, draws=draws, seed=seed, stop_at=stop_at
    )
    return national


def integer_peak_tests(
    counts: IntArray,
    sizes: IntArray,
    regions: IntArray,
    region_count: int,
    *,
    draws: int = NULL_DRAWS,
    seed: int = 0,
    stop_at: int = NULL_STOP_AT,
) -> tuple[PeakTest, tuple[PeakTest, ...]]:
    """The integer-peak test of all the stations and of each region's (`regions`: 0..region_count-1).

    One null serves them all: each draw is drawn for the stations of the scopes still drawing (every
    station while the nation's test is), and each region's null count is the sum over its own
    stations, so it has the law of a null drawn for that region alone. Each scope stops on its own
    (integer_peak_test); a region whose nation has stopped draws only its stations.
    """
    counts = np.asarray(counts, dtype=np.int64)
    sizes = np.asarray(sizes, dtype=np.int64)
    keep = sizes > 0
    counts, sizes, regions = counts[keep], sizes[keep], np.asarray(regions, dtype=np.int64)[keep]
    hit = on_integer_percent(counts, sizes)
    # Scope 0 is the nation, scope 1 + r region r.

    def per_scope(where: IntArray, values: npt.NDArray[np.bool_]) -> IntArray:
        by_region = np.bincount(where, weights=values, minlength=region_count)[:region_count]
        out: IntArray = np.concatenate(([int(values.sum())], by_region)).astype(np.int64)
        return out

    stations = per_scope(regions, np.ones(sizes.size, dtype=bool))
    observed = per_scope(regions, hit)
    scopes = 1 + region_count
    reached = np.zeros(scopes, dtype=np.int64)
    made = np.zeros(scopes, dtype=np.int64)
    null_total = np.zeros(scopes, dtype=np.int64)
    p_value = np.ones(scopes)
    drawing = stations > 0
    stop_at = max(stop_at, math.ceil(FLAG_LEVEL * draws - 1e-9))
    rng = np.random.default_rng(seed)
    rates = counts / np.maximum(sizes, 1)
    drawn: npt.NDArray[np.int64] | None = None
    for _ in range(draws):
        if not drawing.any():
            break
        if drawn is None:  # the scopes drawing changed: whose stations this draw needs
            drawn = np.arange(sizes.size) if drawing[0] else np.flatnonzero(drawing[1 + regions])
        blurred = np.clip(rates[drawn] + rng.normal(0.0, NULL_RATE_BLUR, drawn.size), 0.0, 1.0)
        null_hit = on_integer_percent(rng.binomial(sizes[drawn], blurred), sizes[drawn])
        total = per_scope(regions[drawn], null_hit)
        made += drawing
        null_total += np.where(drawing, total, 0)
        reached += drawing & (total >= observed)
        stopping = drawing & (reached >= stop_at)
        if stopping.any():
            p_value[stopping] = stop_at / made[stopping]
            drawing &= ~stopping
            drawn = None
    p_value[drawing] = (1 + reached[drawing]) / (1 + draws)
    tests = [
        PeakTest(
            int(stations[s]),
            int(observed[s]),
            float(null_total[s] / made[s]) if made[s] else 0.0,
            float(p_value[s]),
            int(made[s]),
        )
        for s in range(scopes)
    ]
    return tests[0], tuple(tests[1:])


def chi_square_sf_9(x: float) -> float:
    """P(X >= x) for a chi-square variable of 9 degrees of freedom, in closed form (odd df)."""
    if x <= 0:
        return 1.0
    root = math.sqrt(x)
    tail = math.erfc(root / math.sqrt(2))
    term = math.sqrt(2 * x / math.pi) * math.exp(-x / 2)
    series = 0.0
    for j in range(1, 5):  # (9 - 1) / 2 terms: x^(j-1) / (1 * 3 * ... * (2j - 1))
        series += x ** (j - 1) / math.prod(range(1, 2 * j, 2))
    return min(1.0, tail + term * series)


def last_digit_test(counts: IntArray) -> DigitTest:
    """Chi-square of the last digits of counts >= LAST_DIGIT_MIN_COUNT against the uniform distribution."""
    values = np.asarray(counts, dtype=np.int64).ravel()
    values = values[values >= LAST_DIGIT_MIN_COUNT]
    digits = np.bincount(values % 10, minlength=10).astype(np.int64)
    tested = int(digits.sum())
    if tested == 0:
        return DigitTest(tuple(int(d) for d in digits), 0.0, 1.0)
    expected = tested / 10
    chi = float(((digits - expected) ** 2).sum() / expected)
    return DigitTest(tuple(int(d) for d in digits), chi, chi_square_sf_9(chi))


def shares(counts: IntArray, sizes: IntArray) -> FloatArray:
    """count / size per station, 0 where the size is 0."""
    sizes_f = np.asarray(sizes, dtype=np.float64)
    out: FloatArray = np.divide(
        np.asarray(counts, dtype=np.float64), sizes_f, out=np.zeros(sizes_f.size), where=sizes_f > 0
    )
    return out


def comet_histogram(
    turnout: FloatArray, leader_share: FloatArray, weights: IntArray, bins: int = 100
) -> IntArray:
    """Voters per (turnout bin, leader-share bin), bins of 1/bins over [0, 1]; 100% falls in the last bin."""
    t = np.minimum((np.asarray(turnout) * bins).astype(np.int64), bins - 1)
    s = np.minimum((np.asarray(leader_share) * bins).astype(np.int64), bins - 1)
    grid = np.zeros((bins, bins), dtype=np.int64)
    np.add.at(grid, (t, s), np.asarray(weights, dtype=np.int64))
    return grid


def percent_histogram(values: FloatArray, weights: IntArray | None = None) -> IntArray:
    """Stations (or `weights`) per 0.1-point bin over 0..100%: fine enough to show integer peaks."""
    index = np.minimum(np.rint(np.asarray(values) * 1000).astype(np.int64), 1000)
    w = None if weights is None else np.asarray(weights, dtype=np.int64)
    hist: IntArray = np.bincount(index, weights=w, minlength=1001).astype(np.int64)
    return hist


def weighted_correlation(x: FloatArray, y: FloatArray, weights: IntArray) -> float:
    """Pearson correlation of x and y weighted by voters (0 when either does not vary)."""
    w = np.asarray(weights, dtype=np.float64)
    total = float(w.sum())
    if total <= 0:
        return 0.0
    mx, my = float((w * x).sum()) / total, float((w * y).sum()) / total
    cov = float((w * (x - mx) * (y - my)).sum())
    vx, vy = float((w * (x - mx) ** 2).sum()), float((w * (y - my) ** 2).sum())
    return 0.0 if vx <= 0 or vy <= 0 else cov / math.sqrt(vx * vy)
