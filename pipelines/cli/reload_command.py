"""`elections reload`: the historical_reload DAG's work from the command line."""

from __future__ import annotations

import argparse
from typing import Any

from pipelines.cli.store_commands import add_warehouse_option
from pipelines.core.errors import EXIT_OK


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "reload",
        help="rebuild one election deterministically into <warehouse>/data/reloads/ and publish it",
        description="Rebuild one election from the raw archive (replayed in arrival order, optionally "
        "only up to --as-of) or from the shipped history, into its own reload warehouse beside the main "
        "one; the main warehouse's log is not changed. Prints the seat table and projection checksums.",
    )
    parser.add_argument("--election", required=True, metavar="ID", help="for example kz-mazhilis-2004")
    parser.add_argument(
        "--source",
        required=True,
        choices=("archive", "history"),
        help="archive: the files this warehouse received; history: the shipped historical files",
    )
    parser.add_argument(
        "--as-of",
        metavar="TS",
        default=None,
        help="archive only: replay what had arrived by this ISO timestamp (UTC unless it has an offset)",
    )
    add_warehouse_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: a reload pulls in DuckDB and the validation gate, which other commands do not need.
    from pipelines.core.paths import default_warehouse_dir
    from pipelines.orchestration.historical_reload import parse_request, reload_election

    request = parse_request(args.election, args.source, args.as_of)
    result = reload_election(args.warehouse or default_warehouse_dir(), request)
    print("\n".join(result.lines()))
    return EXIT_OK
