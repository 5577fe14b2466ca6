"""`elections load-history ELECTION_ID | --list`: load a historical Mazhilis election through ingestion."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from pipelines.core.errors import EXIT_OK, InputError
from pipelines.core.paths import default_warehouse_dir
from pipelines.synthetic.history import DEFAULT_SEED, list_elections, write_history_files


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "load-history",
        help="load a historical Kazakhstan Mazhilis election (official totals, synthetic precincts)",
        description="Declare a historical Mazhilis party-list election and ingest a synthetic precinct "
        "breakdown whose sums equal the official national totals exactly.",
    )
    parser.add_argument("election_id", nargs="?", help="for example kz-mazhilis-2021")
    parser.add_argument("--list", action="store_true", help="list the elections that ship")
    parser.add_argument("--warehouse", type=Path, default=None, help="warehouse folder")
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="seed of the synthetic precinct breakdown"
    )
    parser.add_argument(
        "--by-region",
        action="store_true",
        help="one protocol file per region, as commissions deliver them (slower: validation runs per file)",
    )
    parser.set_defaults(func=run)


def listing_lines() -> list[str]:
    lines = [f"{'election':<18} {'date':<10} {'seats':>5} {'threshold':>9}  source"]
    for election in list_elections():
        lines.append(
            f"{election.election_id:<18} {election.date:<10} {election.seats:>5} "
            f"{election.threshold_pct:>8}%  {election.source_note}"
        )
    return lines


def run(args: argparse.Namespace) -> int:
    if args.list:
        print("\n".join(listing_lines()))
        return EXIT_OK
    if not args.election_id:
        raise InputError("name an election (see `elections load-history --list`)", column="ELECTION_ID")
    # Imported here: ingestion pulls in DuckDB and the validation gate, which `--list` does not need.
    from pipelines.ingestion.ingest import ingest_paths

    warehouse = args.warehouse if args.warehouse is not None else default_warehouse_dir()
    with tempfile.TemporaryDirectory(prefix=f"{args.election_id}-") as folder:
        paths = write_history_files(args.election_id, Path(folder), seed=args.seed, by_region=args.by_region)
        summary = ingest_paths(paths, warehouse=warehouse)
    print("\n".join(summary.lines()))
    return EXIT_OK
