"""Deterministic synthetic precinct breakdown whose sums equal given national totals exactly.

No public source publishes Kazakhstan's results by polling station, so the history loader invents a
plausible breakdown. Random draws only shape integer *weights*; every count is then apportioned from
its national total with integer largest-remainder arithmetic, so the precinct figures always add up to
the official totals, and every protocol adds up (list votes + against all + invalid = ballots cast
<= ballots issued <= registered voters).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pipelines.synthetic.manipulation import Manipulation, manipulate

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# Integer weights stay below 2**30 and totals below 2**32, so `total * weight` fits in int64.
_WEIGHT_SCALE = 2**30
_MAX_TOTAL = 2**32


@dataclass(frozen=True)
class RegionShape:
    """What shapes one region's precincts: its share of the electorate and its expected turnout."""

    region_id: str
    electorate_weight: int
    turnout: float  # expected share of registered voters who vote, 0..1
    is_city: bool = False


@dataclass(frozen=True)
class NationalTotals:
    """The official figures the breakdown must reproduce; `list_votes` in ballot order."""

    registered_voters: int
    ballots_cast: int
    invalid_ballots: int
    against_all: int
    list_votes: tuple[int, ...]

    def check(self) -> None:
        counted = sum(self.list_votes) + self.against_all + self.invalid_ballots
        if counted != self.ballots_cast:
            raise ValueError(
                f"totals do not add up: lists + against all + invalid = {counted}, "
                f"ballots cast = {self.ballots_cast}"
            )
        if self.ballots_cast > self.registered_voters:
            raise ValueError("ballots cast exceed registered voters")
        if min((self.registered_voters, self.invalid_ballots, self.against_all, *self.list_votes)) < 0:
            raise ValueError("totals must be >= 0")


@dataclass(frozen=True)
class PrecinctTable:
    """One row per precinct, columns as numpy arrays; `votes` has one column per list."""

    precinct_ids: tuple[str, ...]
    region_index: IntArray  # index into `regions`
    regions: tuple[RegionShape, ...]
    registered_voters: IntArray
    ballots_issued: IntArray
    ballots_cast: IntArray
    invalid_ballots: IntArray
    against_all: IntArray
    votes: IntArray  # shape (precincts, lists)

    def __len__(self) -> int:
        return len(self.precinct_ids)

    def region_id(self, row: int) -> str:
        return self.regions[int(self.region_index[row])].region_id


def to_int_weights(weights: FloatArray) -> IntArray:
    """Scale non-negative float weights to integers, so apportionment itself is integer arithmetic."""
    if weights.size == 0:
        return np.zeros(0, dtype=np.int64)
    top = float(weights.max())
    if top <= 0:
        return np.zeros(weights.shape, dtype=np.int64)
    return np.floor(weights / top * (_WEIGHT_SCALE - 1)).astype(np.int64)


def _largest_remainder(total: int, weights: IntArray) -> IntArray:
    weight_sum = int(weights.sum())
    scaled = total * weights
    base = scaled // weight_sum
    remainders = scaled % weight_sum
    short = total - int(base.sum())
    if short:
        # Largest remainder first; equal remainders go to the lower index, which keeps it deterministic.
        order = np.lexsort((np.arange(weights.size), -remainders))
        base[order[:short]] += 1
    return base


def apportion(total: int, weights: IntArray, caps: IntArray | None = None) -> IntArray:
    """Split `total` into integers proportional to `weights` (largest remainder), none above its cap.

    The result always sums to `total` exactly. Where every weight is zero the split follows the caps.
    """
    if total < 0 or total >= _MAX_TOTAL:
        raise ValueError(f"total out of range: {total}")
    if weights.size == 0:
        if total:
            raise ValueError("cannot apportion a positive total to nothing")
        return np.zeros(0, dtype=np.int64)
    if caps is None:
        use = weights if int(weights.sum()) > 0 else np.ones(weights.size, dtype=np.int64)
        return _largest_remainder(total, use)
    if int(caps.sum()) < total:
        raise ValueError(f"caps sum to {int(caps.sum())}, less than the total {total}")
    result = np.zeros(weights.size, dtype=np.int64)
    free = np.flatnonzero(caps > 0)
    remaining = total
    while remaining:
        share = weights[free]
        if int(share.sum()) == 0:
            share = caps[free]
        alloc = _largest_remainder(remaining, share)
        over = alloc > caps[free]
        if not over.any():
            result[free] = alloc
            break
        capped = free[over]
        result[capped] = caps[capped]
        remaining -= int(caps[capped].sum())
        free = free[~over]
    return result


def synthesise(
    regions: Sequence[RegionShape],
    totals: NationalTotals,
    precinct_count: int,
    *,
    seed: int,
    salt: int = 0,
    manipulation: Manipulation | None = None,
) -> PrecinctTable:
    """Invent `precinct_count` precincts over `regions` whose columns sum exactly to `totals`.

    With `manipulation` (for forensic calibration, docs/forensics.md) it is then applied in favour of
    the list with most votes, from a random stream of its own: the sums no longer equal `totals`.
    """
    totals.check()
    if precinct_count < len(regions):
        raise ValueError("need at least one precinct per region")
    rng = np.random.default_rng([seed, salt])
    shapes = tuple(regions)
    electorate = np.array([r.electorate_weight for r in shapes], dtype=np.int64)

    # Cities have fewer, larger polling stations than the countryside.
    station_weight = np.array([r.electorate_weight * (1 if r.is_city else 2) for r in shapes], dtype=np.int64)
    per_region = apportion(precinct_count - len(shapes), station_weight) + 1
    region_index = np.repeat(np.arange(len(shapes), dtype=np.int64), per_region)

    registered = np.zeros(precinct_count, dtype=np.int64)
    region_registered = apportion(totals.registered_voters, electorate)
    start = 0
    for i, count in enumerate(per_region.tolist()):
        sizes = to_int_weights(rng.lognormal(0.0, 0.5, count)) + 1
        registered[start : start + count] = apportion(int(region_registered[i]), sizes)
        start += count

    turnout = np.array([r.turnout for r in shapes])[region_index]
    propensity = _turnout_propensity(
        turnout, rng.normal(0.0, 0.25, precinct_count), registered, totals.ballots_cast
    )
    cast = apportion(
        totals.ballots_cast, to_int_weights(registered.astype(np.float64) * propensity), caps=registered
    )

    # A few ballots are issued but not found in the box (taken home, spoiled and not counted).
    slack = registered - cast
    issued = cast + (slack * rng.integers(0, 4, precinct_count)) // 1000

    columns = [*totals.list_votes, totals.against_all, totals.invalid_ballots]
    spread = [1.0] * (len(columns) - 1) + [0.5]
    filled = _fill_columns(columns, cast, region_index, len(shapes), rng, spread)
    k = len(totals.list_votes)
    votes = filled[:, :k].copy()
    if manipulation is not None:
        changed = manipulate(
            manipulation,
            registered,
            cast,
            issued,
            votes,
            leader=int(np.argmax(totals.list_votes)),
            rng=np.random.default_rng([seed, salt, 1]),
        )
        cast, issued, votes = changed.ballots_cast, changed.ballots_issued, changed.votes
    ids = tuple(
        f"{shapes[r].region_id}-{n:04d}"
        for r, count in enumerate(per_region.tolist())
        for n in range(1, count + 1)
    )
    return PrecinctTable(
        precinct_ids=ids,
        region_index=region_index,
        regions=shapes,
        registered_voters=registered,
        ballots_issued=issued,
        ballots_cast=cast,
        invalid_ballots=filled[:, k + 1].copy(),
        against_all=filled[:, k].copy(),
        votes=votes,
    )


def _turnout_propensity(
    turnout: FloatArray, noise: FloatArray, registered: IntArray, ballots_cast: int
) -> FloatArray:
    """Precinct turnout around its region's, shifted in logit space until it matches the national total.

    Working in logits keeps every precinct below 100% however high its region's turnout is.
    """
    clipped = np.clip(turnout, 0.02, 0.98)
    base = np.log(clipped / (1 - clipped)) + noise
    voters = registered.astype(np.float64)
    target = ballots_cast / max(1.0, float(voters.sum()))
    low, high = -10.0, 10.0
    for _ in range(60):
        shift = (low + high) / 2
        share = float((voters / (1 + np.exp(-(base + shift)))).sum()) / max(1.0, float(voters.sum()))
        low, high = (shift, high) if share < target else (low, shift)
    result: FloatArray = 1 / (1 + np.exp(-(base + (low + high) / 2)))
    return result


def _fill_columns(
    column_totals: Sequence[int],
    row_totals: IntArray,
    region_index: IntArray,
    region_count: int,
    rng: np.random.Generator,
    spread: Sequence[float],
) -> IntArray:
    """Integer matrix with the given row and column sums, shaped by regional and local preferences.

    `spread` scales each column's geographic variation (invalid ballots vary less than party support).

    Columns are filled smallest first, each apportioned within what is left of every row; the
    largest column takes the rest of each row, so both margins hold exactly.
    """
    rows, cols = row_totals.size, len(column_totals)
    grand = sum(column_totals)
    out = np.zeros((rows, cols), dtype=np.int64)
    left = row_totals.copy()
    order = sorted(range(cols), key=lambda c: (column_totals[c], c))
    regional = rng.normal(0.0, 0.3, (region_count, cols))
    for c in order[:-1]:
        share = column_totals[c] / grand if grand else 0.0
        local = rng.normal(0.0, 0.2, rows)
        weight = row_totals * share * np.exp(spread[c] * (regional[region_index, c] + local))
        out[:, c] = apportion(int(column_totals[c]), to_int_weights(weight), caps=left)
        left -= out[:, c]
    out[:, order[-1]] = left
    return out
