"""A projection of the final seat table from the precincts reported so far: an estimate, never a result.

Stratified by region: within a region the precincts still out are assumed to vote like the ones that
reported there, in proportion to registered voters (a ratio estimate: what the reported precincts cast
per registered voter, times the region's registered voters still out, added to what they counted). A
region with no precinct reported yet takes the ratio of every reported precinct together. The interval
comes from a bootstrap: in each replicate the reported precincts of each region are resampled with
replacement and its outstanding precincts drawn from that resample (a region with none reported takes
the resample of a reported region drawn by registered voters), the estimate recomputed, rounded to whole
votes and allocated by the election's own rules (`seat_allocation.allocate`); the interval of a list is
the central `level` of its replicate seats. Only the part still out is resampled, so when every precinct
has reported the projection is the final table and every interval a single number.

The vote estimates are floats (the ratio of sums); the allocation only ever sees whole votes.
Assumptions the interval rests on, and does not test: the reported precincts of a region are like its
outstanding ones (reporting within a region unrelated to how it voted), and protocols already reported
stand. docs/seat-allocation.md, "Projection", gives its measured coverage on simulated election nights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from pipelines.core.errors import InputError, RulesCannotDecide
from pipelines.rules.list_votes import ListVotes
from pipelines.rules.rule_profiles import RuleProfile
from pipelines.rules.seat_allocation import allocate

LABEL = "projection, not a result"
DEFAULT_REPLICATES = 400
DEFAULT_LEVEL = Fraction(9, 10)

# Bounds the resampling's index array (replicates x precincts of a region) to a few million cells.
_CELLS_PER_BLOCK = 4_000_000

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Station:
    """One declared precinct not annulled: its region, registered voters and, once reported, its counts
    (`votes` per list in the order of the lists projected)."""

    region_id: str
    registered_voters: int
    reported: bool
    ballots_cast: int = 0
    invalid_ballots: int = 0
    against_all: int = 0
    votes: tuple[int, ...] = ()


@dataclass(frozen=True)
class ListProjection:
    list_id: str
    name: str
    reported_votes: int
    reported_share: Fraction  # of the list votes counted so far
    projected_votes: int
    projected_seats: int  # the allocation of the projected votes
    low: int  # the interval of the replicate seats (central `level`)
    high: int


@dataclass(frozen=True)
class SeatProjection:
    label: str
    lists: tuple[ListProjection, ...]
    total_seats: int
    stations: int
    stations_reported: int
    registered_voters: int  # of the stations projected (declared, not annulled)
    registered_reported: int
    regions: int
    regions_unreported: int  # regions with no station reported: they take the national ratio
    level: Fraction
    replicates: int  # resampled (0 when nothing is outstanding)
    replicates_undecided: int  # replicates whose votes the rules could not allocate

    @property
    def reported_share(self) -> Fraction:
        """The share of registered voters whose precincts reported."""
        return Fraction(self.registered_reported, self.registered_voters or 1)


def project_seats(
    lists: Sequence[ListVotes],
    stations: Sequence[Station],
    profile: RuleProfile,
    *,
    registered_voters: int | None = None,
    replicates: int = DEFAULT_REPLICATES,
    level: Fraction = DEFAULT_LEVEL,
    seed: int = 0,
) -> SeatProjection:
    """The projected seats of `lists` and their interval. `registered_voters` is the electorate the
    profile's threshold base may measure against (default: the stations' registered voters).
    RulesCannotDecide when the projected votes themselves cannot be allocated."""
    if not 0 < level < 1:
        raise InputError("the projection's level must lie strictly between 0 and 1", value=str(level))
    if replicates < 1:
        raise InputError("the projection needs at least one replicate", value=replicates)
    width = len(lists) + 3  # list votes, against all, invalid ballots, registered voters
    reported = [s for s in stations if s.reported]
    if not reported:
        raise InputError("no precinct has reported yet: there is nothing to project from")
    for s in reported:
        if len(s.votes) != len(lists):
            raise InputError(
                f"a reported precinct of region {s.region_id!r} has {len(s.votes)} list counts, "
                f"not {len(lists)}",
                value=len(s.votes),
            )
    strata = _strata(stations, width)
    point = _estimates(strata, [st.counted[np.newaxis, :] for st in strata])[0]
    electorate = (
        registered_voters if registered_voters is not None else sum(s.registered_voters for s in stations)
    )
    seats = _allocate(lists, point, profile, electorate)
    outstanding = any(st.outstanding > 0 for st in strata)
    drawn: list[tuple[int, ...]] = []
    undecided = 0
    if outstanding:
        rng = np.random.default_rng(seed)
        for estimate in _estimates(strata, [_resampled(st, replicates, rng) for st in strata], rng):
            try:
                drawn.append(_allocate(lists, estimate, profile, electorate))
            except RulesCannotDecide:
                undecided += 1
    bounds = _central(drawn, len(lists), level) if drawn else [(x, x) for x in seats]
    counted = [int(sum(s.votes[i] for s in reported)) for i in range(len(lists))]
    valid = sum(counted)
    return SeatProjection(
        label=LABEL,
        lists=tuple(
            ListProjection(
                list_id=x.list_id,
                name=x.name,
                reported_votes=counted[i],
                reported_share=Fraction(counted[i], valid or 1),
                projected_votes=int(point_votes),
                projected_seats=seats[i],
                low=bounds[i][0],
                high=bounds[i][1],
            )
            for i, (x, point_votes) in enumerate(zip(lists, _whole(point)[: len(lists)], strict=True))
        ),
        total_seats=sum(seats),
        stations=len(stations),
        stations_reported=len(reported),
        registered_voters=sum(s.registered_voters for s in stations),
        registered_reported=sum(s.registered_voters for s in reported),
        regions=len(strata),
        regions_unreported=sum(1 for st in strata if len(st.reported_rows) == 0),
        level=level,
        replicates=replicates if outstanding else 0,
        replicates_undecided=undecided,
    )


@dataclass(frozen=True)
class _Stratum:
    counted: FloatArray  # what its reported stations counted: lists, against all, invalid, registered
    reported_rows: FloatArray  # one row per reported station, the same columns
    outstanding: int  # registered voters of its stations not reported
    outstanding_stations: int


def _strata(stations: Sequence[Station], width: int) -> list[_Stratum]:
    rows: dict[str, list[list[float]]] = {}
    outstanding: dict[str, int] = {}
    missing: dict[str, int] = {}
    for s in stations:
        rows.setdefault(s.region_id, [])
        outstanding.setdefault(s.region_id, 0)
        missing.setdefault(s.region_id, 0)
        if s.reported:
            rows[s.region_id].append(
                [
                    *map(float, s.votes),
                    float(s.against_all),
                    float(s.invalid_ballots),
                    float(s.registered_voters),
                ]
            )
        else:
            outstanding[s.region_id] += s.registered_voters
            missing[s.region_id] += 1
    strata = []
    for region in sorted(rows):
        table = np.array(rows[region], dtype=np.float64).reshape(-1, width)
        strata.append(_Stratum(table.sum(axis=0), table, outstanding[region], missing[region]))
    return strata


def _resampled(stratum: _Stratum, replicates: int, rng: np.random.Generator) -> FloatArray:
    """Per replicate, column sums the region's outstanding stations are scaled by: as many stations as are
    outstanding, drawn from a resample (with replacement) of its reported ones. Two stages, because the
    outstanding total is uncertain twice: in the region's mean (what the resample varies) and in which
    stations are out (what the second draw adds; it matters more the more of the region has reported).
    Its counts as they are when nothing there is outstanding or nothing reported."""
    n, m = len(stratum.reported_rows), stratum.outstanding_stations
    if stratum.outstanding == 0 or n == 0:
        return np.broadcast_to(stratum.counted, (replicates, stratum.counted.size))
    sums = np.empty((replicates, stratum.counted.size), dtype=np.float64)
    block = max(1, _CELLS_PER_BLOCK // max(n, m))
    for start in range(0, replicates, block):
        stop = min(replicates, start + block)
        resample = rng.integers(0, n, size=(stop - start, n))
        drawn = np.take_along_axis(resample, rng.integers(0, n, size=(stop - start, max(m, 1))), axis=1)
        sums[start:stop] = stratum.reported_rows[drawn].sum(axis=1)
    return sums


def _estimates(
    strata: Sequence[_Stratum], samples: Sequence[FloatArray], rng: np.random.Generator | None = None
) -> FloatArray:
    """Per replicate (row): the final counts (lists, against all, invalid) of every region, each its
    counted figures plus its outstanding registered voters times the ratio of its (resampled) reported
    stations. A region without one takes the ratio of all regions' stations together for the point
    estimate (`rng` None), and in a replicate the ratio of a region drawn at random from a resample (by
    registered voters) of those that reported: regions differ, and which one it is like is not known."""
    reported = [i for i, st in enumerate(strata) if len(st.reported_rows)]
    pooled = sum(samples[i] for i in reported)
    assert isinstance(pooled, np.ndarray)
    rows = pooled.shape[0]
    total = np.zeros((rows, pooled.shape[1] - 1), dtype=np.float64)
    weights = np.array([strata[i].counted[-1] for i in reported], dtype=np.float64)
    # The regions reported, resampled by registered voters once per replicate: the pool a region with
    # nothing reported is drawn from (two stages again: which regions are like it, then which one it is).
    like = (
        rng.choice(len(reported), size=(rows, len(reported)), p=weights / weights.sum())
        if rng is not None and weights.sum() > 0
        else None
    )
    for st, sample in zip(strata, samples, strict=True):
        total += st.counted[:-1]
        if st.outstanding == 0:
            continue
        if len(st.reported_rows) == 0:
            if like is None or rng is None:
                sample = pooled
            else:
                drawn = like[np.arange(rows), rng.integers(0, len(reported), size=rows)]
                sample = np.stack([samples[reported[j]][row] for row, j in enumerate(drawn.tolist())])
        ratio = sample[:, :-1] / np.maximum(sample[:, -1:], 1.0)
        total += st.outstanding * ratio
    return total


def _whole(estimate: FloatArray) -> list[int]:
    """Whole votes: each figure rounded to the nearest integer (the allocation takes nothing else)."""
    return [int(x) for x in np.rint(estimate).astype(np.int64).tolist()]


def _allocate(
    lists: Sequence[ListVotes], estimate: FloatArray, profile: RuleProfile, electorate: int
) -> tuple[int, ...]:
    figures = _whole(estimate)
    k = len(lists)
    votes, against_all, invalid = figures[:k], figures[k], figures[k + 1]
    allocation = allocate(
        [replace(x, votes=v) for x, v in zip(lists, votes, strict=True)],
        profile,
        against_all=against_all,
        invalid=invalid,
        ballots_cast=sum(votes) + against_all + invalid,
        registered_voters=electorate,
    )
    seats = {row.list_id: row.seats for row in allocation.rows}
    return tuple(seats[x.list_id] for x in lists)


def _central(drawn: Sequence[tuple[int, ...]], lists: int, level: Fraction) -> list[tuple[int, int]]:
    """Per list, the lowest and highest seats of the central `level` of the replicates (order statistics
    at ranks floor(a(m-1)) and ceil((1-a)(m-1)), a = (1 - level) / 2, of m replicates)."""
    tail = (1 - level) / 2
    m = len(drawn)
    lo_rank = int(tail * (m - 1))  # floor: Fraction >= 0
    hi_rank = -int(-(1 - tail) * (m - 1)) if m > 1 else 0
    result = []
    for i in range(lists):
        column = sorted(row[i] for row in drawn)
        result.append((column[lo_rank], column[min(hi_rank, m - 1)]))
    return result
