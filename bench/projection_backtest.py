"""How often the seat projection's interval covers the final seats, over many simulated election nights.

Each night is a small synthetic election (`pipelines.synthetic.precinct_synthesis.synthesise`: regional
and local preferences, regional turnout) over the regions of the 2021 Mazhilis election, with list
shares drawn afresh so that lists sit near the 7% threshold and near seat boundaries, allocated under
`kz-mazhilis-2021`. Its stations report as the simulator's night does (`pipelines/synthetic/simulator.py`):
each region's stations in random order, in 3-10 batches, the first 40-90 minutes after its polls close
(an hour later in the west), then every 15-60 minutes, one region the next morning. At each point of the
night (the first moment at least 10%, 30%, 60% of stations have reported) the projection is made from the
stations in, and its interval checked against the seats of the whole count; the same with every station
in one region (no stratification), for comparison. Not part of `make test`:

    .venv/bin/python -m bench.projection_backtest [--nights 200] [--stations 600] [--replicates 200]

docs/seat-allocation.md "Projection" has the figures of a run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from pipelines.rules.list_votes import ListVotes
from pipelines.rules.rule_profiles import RuleProfile, load_profile
from pipelines.rules.seat_allocation import allocate
from pipelines.rules.seat_projection import SeatProjection, Station, project_seats
from pipelines.synthetic.history import get_election
from pipelines.synthetic.precinct_synthesis import NationalTotals, PrecinctTable, RegionShape, synthesise

ELECTION = "kz-mazhilis-2021"
POINTS = (0.10, 0.30, 0.60)
_MINUTE = 60
_HOUR = 3600
_EAST_UTC_OFFSET = 6
# Mean list shares of a night (drawn around these): a dominant list, two safe, two near the threshold.
_SHARES = (0.55, 0.14, 0.11, 0.075, 0.068, 0.04)


@dataclass
class Tally:
    """Coverage counts at one point of the night, for one way of projecting."""

    lists: int = 0
    lists_covered: int = 0
    nights: int = 0
    nights_covered: int = 0  # every list's final seats inside its interval
    nights_exact: int = 0  # the projected table is the final table
    width: int = 0  # sum of interval widths (high - low) over lists
    reported: float = 0.0  # sum of the share of registered voters reported

    def add(self, projection: SeatProjection, final: Sequence[int]) -> None:
        covered = [x.low <= f <= x.high for x, f in zip(projection.lists, final, strict=True)]
        self.lists += len(covered)
        self.lists_covered += sum(covered)
        self.nights += 1
        self.nights_covered += all(covered)
        self.nights_exact += all(x.projected_seats == f for x, f in zip(projection.lists, final, strict=True))
        self.width += sum(x.high - x.low for x in projection.lists)
        self.reported += float(projection.reported_share)

    def row(self, label: str, point: float) -> str:
        return (
            f"| {label} | {point:.0%} | {self.reported / self.nights:.1%} | "
            f"{self.lists_covered / self.lists:.1%} | {self.nights_covered / self.nights:.1%} | "
            f"{self.nights_exact / self.nights:.1%} | {self.width / self.lists:.2f} |"
        )


def night_election(seed: int, stations: int) -> tuple[PrecinctTable, tuple[RegionShape, ...], list[int]]:
    """A small election over the 2021 regions; returns its stations, regions and their UTC offsets."""
    rng = np.random.default_rng([seed, 19])
    election = get_election(ELECTION)
    regions = tuple(
        RegionShape(
            r.region_id,
            int(rng.integers(300, 2000)),
            (r.reported_turnout_pct or 63.0) / 100,
            r.is_city,
        )
        for r in election.regions
    )
    registered = stations * 1500
    cast = int(registered * rng.uniform(0.5, 0.7))
    invalid = int(cast * 0.01)
    shares = np.array(_SHARES) * np.exp(rng.normal(0.0, 0.15, len(_SHARES)))
    shares /= shares.sum()
    valid = cast - invalid
    votes = [int(valid * s) for s in shares[1:]]
    votes.insert(0, valid - sum(votes))
    totals = NationalTotals(registered, cast, invalid, 0, tuple(votes))
    table = synthesise(regions, totals, stations, seed=seed, salt=19)
    return table, regions, [r.utc_offset_hours for r in election.regions]


def arrival_times(table: PrecinctTable, offsets: Sequence[int], rng: np.random.Generator) -> np.ndarray:
    """When each station reports, as the simulator's territorial commissions send their batches."""
    arrival = np.zeros(len(table), dtype=np.int64)
    late = int(rng.integers(len(table.regions)))
    for index in range(len(table.regions)):
        rows = np.flatnonzero(table.region_index == index)
        rows = rows[rng.permutation(len(rows))]
        clock = (_EAST_UTC_OFFSET - offsets[index]) * _HOUR + int(rng.integers(40, 91)) * _MINUTE
        clock += 13 * _HOUR if index == late else 0
        batches = max(3, min(10, -(-len(rows) // 150)))
        for chunk in np.array_split(rows, batches):
            arrival[chunk] = clock
            clock += int(rng.integers(15, 61)) * _MINUTE
    return arrival


def stations_at(table: PrecinctTable, reported: np.ndarray, *, stratified: bool) -> list[Station]:
    return [
        Station(
            table.region_id(i) if stratified else "all",
            int(table.registered_voters[i]),
            bool(reported[i]),
            int(table.ballots_cast[i]),
            int(table.invalid_ballots[i]),
            int(table.against_all[i]),
            tuple(int(v) for v in table.votes[i]),
        )
        for i in range(len(table))
    ]


def final_seats(table: PrecinctTable, lists: Sequence[ListVotes], profile: RuleProfile) -> list[int]:
    allocation = allocate(
        [replace(x, votes=int(v)) for x, v in zip(lists, table.votes.sum(axis=0), strict=True)],
        profile,
        against_all=int(table.against_all.sum()),
        invalid=int(table.invalid_ballots.sum()),
        ballots_cast=int(table.ballots_cast.sum()),
        registered_voters=int(table.registered_voters.sum()),
    )
    return [row.seats for row in allocation.rows]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nights", type=int, default=200)
    parser.add_argument("--stations", type=int, default=600)
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    profile = load_profile(ELECTION)
    lists = [ListVotes(f"list{i + 1}", f"List {i + 1}", 0, ballot_order=i + 1) for i in range(len(_SHARES))]
    tallies = {(way, p): Tally() for way in ("stratified", "one stratum") for p in POINTS}
    started = time.monotonic()
    undecided = 0
    for night in range(args.seed, args.seed + args.nights):
        table, _regions, offsets = night_election(night, args.stations)
        final = final_seats(table, lists, profile)
        arrival = arrival_times(table, offsets, np.random.default_rng([night, 0x5EED]))
        ordered = np.sort(arrival)
        for point in POINTS:
            moment = ordered[int(np.ceil(point * len(table))) - 1]
            reported = arrival <= moment
            for way in ("stratified", "one stratum"):
                projection = project_seats(
                    lists,
                    stations_at(table, reported, stratified=way == "stratified"),
                    profile,
                    registered_voters=int(table.registered_voters.sum()),
                    replicates=args.replicates,
                    seed=night,
                )
                undecided += projection.replicates_undecided
                tallies[(way, point)].add(projection, final)
    seconds = time.monotonic() - started
    print(
        f"{args.nights} nights of {args.stations} stations, {len(lists)} lists, {ELECTION} rules, "
        f"{args.replicates} replicates, 90% intervals; {seconds:.0f} s; replicates not allocated: {undecided}"
    )
    print(
        "| projection | stations reported | registered voters reported (mean) | lists covered | "
        "nights every list covered | nights projected exactly | mean interval width (seats) |"
    )
    print("|---|---|---|---|---|---|---|")
    for (way, point), tally in tallies.items():
        print(tally.row(way, point))
    widths = [t.width / t.lists for t in tallies.values()]
    print(f"(mean width over all points: {statistics.mean(widths):.2f} seats)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
