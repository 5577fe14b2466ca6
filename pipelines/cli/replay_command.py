"""`elections replay`: rebuild a whole warehouse into a new folder from its input journal."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pipelines.cli.store_commands import add_warehouse_option, warehouse_paths
from pipelines.core.errors import EXIT_OK, InputError


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "replay",
        help="replay the warehouse's raw archive and operator actions into a new warehouse folder",
        description="Feed every journaled input (files with their ingest options, run ends, publish and "
        "certify actions) again, in order and with the recorded times, into a new warehouse: the same "
        "log (every hash) and byte-identical publications. The source is only read.",
    )
    parser.add_argument("target", type=Path, metavar="NEW_WAREHOUSE", help="a folder without a warehouse")
    parser.add_argument(
        "--until",
        metavar="TS",
        default=None,
        help="only what had arrived by this ISO timestamp (UTC unless it has an offset)",
    )
    add_warehouse_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipelines.core.paths import WarehousePaths
    from pipelines.core.timestamps import parse_utc
    from pipelines.ingestion.replay import replay_archive
    from pipelines.store.event_store import writer_lock

    source = warehouse_paths(args)
    if not source.archive.joinpath("receipts.jsonl").is_file():
        raise InputError(f"the warehouse {source.root} has received nothing: no journal to replay")
    if WarehousePaths(args.target).database.exists():
        raise InputError(
            "a replay starts from nothing: the target already holds a warehouse", file=str(args.target)
        )
    until = None if args.until is None else parse_utc(args.until, column="until")
    # The source's writer appends to the journal: hold it still while replaying.
    with writer_lock(source, wait_seconds=300):
        summary = replay_archive(source, args.target, until=until)
    print("\n".join(summary.lines()))
    print(f"replayed into {args.target}")
    return EXIT_OK
