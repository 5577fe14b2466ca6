"""`elections simulate`: an election night into an inbox, a recorded night replayed, or a benchmark election.

elections simulate --election kz-mazhilis-2021 --out inbox [--speed 60] [--seed N] [--recording DIR]
elections simulate replay RECORDING --out inbox [--speed 60]
elections simulate --precincts 1000000 --lists 20 [--regions 36] --out DIR [--seed N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from pipelines.core.errors import EXIT_OK, InputError
from pipelines.synthetic.history import DEFAULT_SEED
from pipelines.synthetic.scale_generator import (
    DEFAULT_CHUNK,
    DEFAULT_RULE_PROFILE,
    ScaleSpec,
    default_region_count,
    generate,
)
from pipelines.synthetic.simulator import RecordedDelivery, play_recording, simulate_night

DEFAULT_SPEED = 60.0


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "simulate",
        help="simulate election night into an inbox, replay a recording, or generate a large election",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", nargs="?", choices=["replay"], help="replay a recorded night")
    parser.add_argument("recording", nargs="?", type=Path, help="recording folder (with replay)")
    parser.add_argument("--election", help="historical election to simulate, e.g. kz-mazhilis-2021")
    parser.add_argument("--out", type=Path, required=True, help="inbox (or output folder) to write into")
    parser.add_argument(
        "--speed",
        type=float,
        default=DEFAULT_SPEED,
        help=f"night seconds per real second (default {DEFAULT_SPEED:g}); 0 writes everything at once",
    )
    parser.add_argument("--no-wait", action="store_true", help="write everything at once (same as --speed 0)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the synthetic data")
    parser.add_argument(
        "--recording-dir",
        type=Path,
        default=None,
        help="where to keep the night's recording (default: OUT beside, named OUT.recording)",
    )
    parser.add_argument("--precincts", type=int, help="generate a benchmark election of this many precincts")
    parser.add_argument("--lists", type=int, help="number of lists of the benchmark election")
    parser.add_argument("--regions", type=int, help="number of regions of the benchmark election")
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK, help="precincts per protocol file")
    parser.add_argument("--rule-profile", default=DEFAULT_RULE_PROFILE, help="rule profile of the benchmark")
    parser.set_defaults(func=run)


def _speed(args: argparse.Namespace) -> float:
    speed = 0.0 if args.no_wait else float(args.speed)
    if speed < 0:
        raise InputError("speed must be >= 0", column="--speed", value=speed)
    return speed


def _announce(entry: RecordedDelivery, path: Path) -> None:
    hours, rest = divmod(entry.offset_seconds, 3600)
    print(f"+{hours:02d}:{rest // 60:02d}  {entry.kind:<11} {path.name}", flush=True)


def run(args: argparse.Namespace) -> int:
    if args.action == "replay":
        if args.recording is None:
            raise InputError("replay needs the recording folder", column="RECORDING")
        written = play_recording(args.recording, args.out, speed=_speed(args), on_delivery=_announce)
        print(f"replayed {len(written)} files into {args.out}")
        return EXIT_OK
    if args.precincts is not None or args.lists is not None:
        return _run_scale(args)
    if not args.election:
        raise InputError(
            "name --election ELECTION_ID, or --precincts N --lists K, or `replay RECORDING`",
            column="--election",
        )
    recording = args.recording_dir or args.out.with_name(args.out.name + ".recording")
    written = simulate_night(
        args.election, args.out, recording, seed=args.seed, speed=_speed(args), on_delivery=_announce
    )
    print(f"wrote {len(written)} files into {args.out}; recording in {recording}")
    return EXIT_OK


def _run_scale(args: argparse.Namespace) -> int:
    if args.precincts is None or args.lists is None:
        raise InputError("a benchmark election needs both --precincts and --lists", column="--lists")
    regions = args.regions if args.regions is not None else default_region_count(max(1, args.precincts))
    spec = ScaleSpec(
        precincts=args.precincts,
        lists=args.lists,
        regions=regions,
        seed=args.seed,
        chunk_size=args.chunk_size,
        rule_profile=args.rule_profile,
    )
    started = time.perf_counter()
    paths = generate(spec, args.out)
    elapsed = time.perf_counter() - started
    size = sum(p.stat().st_size for p in paths)
    print(
        f"wrote {spec.election_id}: {spec.precincts} precincts x {spec.lists} lists in {len(paths)} files "
        f"({size / 1e6:.1f} MB) in {elapsed:.1f} s into {args.out}",
        file=sys.stdout,
    )
    return EXIT_OK
