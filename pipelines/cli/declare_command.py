"""`elections declare`: declare an election from a commission's own files through a native layout."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pipelines.cli.store_commands import add_warehouse_option, warehouse_paths
from pipelines.core.errors import EXIT_OK, EXIT_QUARANTINED


def register(subparsers: Any) -> None:
    declare = subparsers.add_parser(
        "declare",
        help="declare an election from native results files: lists, regions, precincts, registered voters",
        epilog="Reads the files through LAYOUT (a shipped id in schemas/layouts/ or a layout file, "
        "docs/layouts.md): lists from the header in column order, regions and precincts from the rows. "
        "Exit 0: declared; 4: the declaration was quarantined (listed); 2: a file the layout does not fit, "
        "a row it cannot read, bad usage.",
    )
    declare.add_argument("paths", nargs="+", type=Path, metavar="FILE")
    declare.add_argument("--layout", required=True, help="layout id or layout file")
    declare.add_argument("--rules", required=True, help="rule profile: a shipped id or a YAML/JSON file")
    declare.add_argument("--election", required=True, help="the new election's id")
    declare.add_argument("--name", required=True, help="the election's name")
    declare.add_argument("--date", default="", help="the election's date, YYYY-MM-DD")
    add_warehouse_option(declare)
    declare.set_defaults(func=run_declare)


def run_declare(args: argparse.Namespace) -> int:
    from pipelines.gate.native_layout import load_layout
    from pipelines.ingestion.native_ingest import declare_native

    summary = declare_native(
        args.paths,
        layout=load_layout(args.layout),
        rules=args.rules,
        election_id=args.election,
        name=args.name,
        date=args.date,
        warehouse=warehouse_paths(args).root,
    )
    print("\n".join(summary.lines()))
    return EXIT_OK if summary.all_accepted() else EXIT_QUARANTINED
