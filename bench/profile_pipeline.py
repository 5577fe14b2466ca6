"""Where the pipeline's time goes: cProfile of one variant on a cached benchmark election.

    .venv/bin/python -m bench.profile_pipeline full --size 100000
    .venv/bin/python -m bench.profile_pipeline incremental --size 1000000 \
        --warehouse bench-results/work/n1000000
    .venv/bin/python -m bench.profile_pipeline rebuild --warehouse bench-results/work/n1000000

Writes bench-results/profile-<variant>-n<size>.txt (top functions by own and cumulative time) and the
raw .prof file beside it (for snakeviz or pstats).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
from collections.abc import Sequence
from pathlib import Path

from bench import variants
from bench.run_benchmarks import BATCH, REPO, dataset


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.profile_pipeline", description=__doc__)
    parser.add_argument("variant", choices=("full", "incremental", "rebuild"))
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--warehouse", type=Path, help="default: a fresh bench-results/work/profile-n<size>")
    parser.add_argument("--first", type=int, default=5_000, help="first row (of the first file) to amend")
    parser.add_argument("--out", type=Path, default=REPO / "bench-results")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args(argv)
    warehouse = args.warehouse or args.out / "work" / f"profile-n{args.size}"
    variants.load_pipeline()
    profile = cProfile.Profile()
    if args.variant == "full":
        data = dataset(args.size, args.seed, args.out)
        profile.enable()
        result = variants.full_pipeline(data, warehouse)
    elif args.variant == "incremental":
        data = dataset(args.size, args.seed, args.out)
        first = min(args.first, args.size - BATCH)
        batch = variants.write_amendments(
            data, args.out / "work" / "profile-batch" / f"amend-{first}.csv", first=first, count=BATCH
        )
        profile.enable()
        result = variants.incremental_batch(batch, warehouse)
    else:
        profile.enable()
        result = variants.rebuild(warehouse)
    profile.disable()
    stem = args.out / f"profile-{args.variant}-n{args.size}"
    profile.dump_stats(f"{stem}.prof")
    text = io.StringIO()
    text.write(f"{args.variant} n={args.size}: {result}\n\n")
    stats = pstats.Stats(profile, stream=text)
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)
    Path(f"{stem}.txt").write_text(text.getvalue(), encoding="utf-8")
    print(f"{args.variant}: {result['seconds']:.2f}s (under cProfile); report {stem}.txt", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
