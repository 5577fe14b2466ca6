"""`elections reconcile SUMMARY.csv`: a commission's published summary against the warehouse's figures."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pipelines.cli.output import FORMATS, render
from pipelines.cli.store_commands import add_warehouse_option, warehouse_paths
from pipelines.core.errors import EXIT_DIFFERENCES, EXIT_OK


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "reconcile",
        help="compare a commission's published summary (CSV) with the warehouse's totals and seats",
        description="Compare each figure of a commission's summary (national and per region: polling "
        "stations, registered voters, ballots cast, invalid ballots, against all, each list's votes, "
        "seats; format: schemas/reconcile_summary.md) with the warehouse's, read-only on its snapshot, "
        "and print every difference with both figures.",
        epilog="Exit 0: every figure agrees; 1: some differ (listed); 2: the summary is malformed or names "
        "a region or list the election does not have; 5: --as-of before the election's first result.",
    )
    parser.add_argument("summary", type=Path, metavar="SUMMARY.csv")
    parser.add_argument("--election", help="election id (default: the only one declared)")
    parser.add_argument("--as-of", help="compare the figures as of a log position or ISO timestamp")
    parser.add_argument("--all", action="store_true", help="list every figure compared, not only differences")
    parser.add_argument("--format", choices=FORMATS, default="table")
    add_warehouse_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipelines.audit.reconciliation import RECORD_COLUMNS, compare
    from pipelines.audit.reconciliation_figures import warehouse_figures
    from pipelines.gate.reconcile_summary import read_summary
    from pipelines.publishing.seat_table import only_election, require_results_by, resolve_as_of
    from pipelines.store.event_store import open_read_only

    # The summary first: a malformed one is refused before the warehouse is opened.
    summary = read_summary(args.summary)
    with open_read_only(warehouse_paths(args).snapshot) as conn:
        election_id = only_election(conn, args.election)
        position = resolve_as_of(conn, args.as_of)
        if position is not None:
            require_results_by(conn, election_id, position, args.as_of)
        figures = warehouse_figures(conn, election_id, as_of=position)
    comparisons = compare(summary, figures, file=str(args.summary))
    differing = [c for c in comparisons if not c.agrees]
    shown = comparisons if args.all else differing
    if shown or args.format != "table":
        print(render([c.record() for c in shown], RECORD_COLUMNS, args.format))
    if args.format == "table":
        if shown:
            print()
        verdict = (
            f"{len(differing)} of {len(comparisons)} figures differ"
            if differing
            else f"all {len(comparisons)} figures agree"
        )
        print(
            f"{verdict}: {args.summary} against {election_id} at log position "
            f"{figures.position}; seats: {figures.seats_source}"
        )
    return EXIT_DIFFERENCES if differing else EXIT_OK
