"""Calibrate the forensic flags on simulated elections: false-positive rate and detection rate.

    .venv/bin/python -m bench.forensics_calibration [--elections 200] [--stations 2000] [--seed 0]

Each election is synthesised in memory (pipelines.synthetic.precinct_synthesis, no warehouse) with
random regional turnouts, then screened as `elections forensics` screens a warehouse. Every
scenario uses the same seeds, so the manipulated elections are the clean ones plus manipulation.
Prints a Markdown table for docs/forensics.md. Not part of `make test` (a few minutes).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipelines.audit.forensics import FLAG_LEVEL, NULL_DRAWS
from pipelines.audit.forensics_screen import StationCounts, screen
from pipelines.synthetic.manipulation import Manipulation
from pipelines.synthetic.precinct_synthesis import NationalTotals, RegionShape, synthesise

REGIONS = 10
LIST_SHARES = (0.55, 0.18, 0.12, 0.09, 0.06)
FLAGS = ("turnout_peaks", "leader_share_peaks", "last_digits")


@dataclass(frozen=True)
class Scenario:
    name: str
    what: str
    manipulation: Manipulation | None


SCENARIOS = (
    Scenario("clean", "no manipulation", None),
    Scenario(
        "stuffing 10%", "10% of stations stuffed, 0-50% of non-voters for the leader", Manipulation(0.10)
    ),
    Scenario(
        "rounding 5%",
        "5% of stations' turnout raised to the next multiple of 5%",
        Manipulation(rounding_share=0.05),
    ),
    Scenario(
        "rounding 2%",
        "2% of stations' turnout raised to the next multiple of 5%",
        Manipulation(rounding_share=0.02),
    ),
    Scenario(
        "rounded counts 20%",
        "20% of stations' leader votes written up to a multiple of 10",
        Manipulation(rounded_counts_share=0.20),
    ),
)


def election(seed: int, stations: int, manipulation: Manipulation | None) -> StationCounts:
    rng = np.random.default_rng([seed, 99])
    shapes = [
        RegionShape(f"r{i:02d}", int(rng.integers(50, 200)), float(rng.uniform(0.45, 0.8)))
        for i in range(REGIONS)
    ]
    registered = stations * 1200
    cast = int(registered * 0.62)
    invalid = cast // 100
    valid = cast - invalid
    votes = [int(valid * share) for share in LIST_SHARES]
    votes[0] += valid - sum(votes)
    totals = NationalTotals(registered, cast, invalid, 0, tuple(votes))
    table = synthesise(shapes, totals, stations, seed=seed, manipulation=manipulation)
    return StationCounts(
        region_index=table.region_index,
        region_ids=tuple(r.region_id for r in shapes),
        list_ids=tuple(f"list{i + 1}" for i in range(len(LIST_SHARES))),
        registered=table.registered_voters,
        ballots_cast=table.ballots_cast,
        votes=table.votes,
    )


def calibrate(elections: int, stations: int, seed: int, draws: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for scenario in SCENARIOS:
        national = dict.fromkeys(FLAGS, 0)
        any_national = any_region = 0
        correlations = []
        for i in range(elections):
            result = screen(election(seed + i, stations, scenario.manipulation), draws=draws)
            for flag in result.national.flags:
                national[flag] += 1
            any_national += bool(result.national.flags)
            any_region += any(r.flags for r in result.regions)
            correlations.append(result.national.comet_correlation)
        rows.append(
            {
                "scenario": scenario.name,
                "what": scenario.what,
                **{flag: national[flag] / elections for flag in FLAGS},
                "any national flag": any_national / elections,
                f"any of {REGIONS} regions flagged": any_region / elections,
                "comet corr (mean)": float(np.mean(correlations)),
            }
        )
        print(f"{scenario.name}: done", file=sys.stderr)
    return rows


def markdown(rows: Sequence[dict[str, object]]) -> str:
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row.values()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--elections", type=int, default=200)
    parser.add_argument("--stations", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--draws", type=int, default=NULL_DRAWS)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = calibrate(args.elections, args.stations, args.seed, args.draws)
    print(markdown(rows))
    print(
        f"\n{args.elections} elections x {args.stations} stations per scenario, {REGIONS} regions, flags at "
        f"p < {FLAG_LEVEL}, {args.draws} null draws; {time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
