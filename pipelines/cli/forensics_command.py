"""`elections forensics`: screen the counted polling stations for patterns manipulation can leave."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pipelines.cli.output import FORMATS, render
from pipelines.cli.store_commands import add_warehouse_option, warehouse_paths
from pipelines.core.errors import EXIT_NO_RESULTS, EXIT_OK

MIN_DRAWS = 100


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "forensics",
        help="screen the counted stations: comet plot, integer-percent peaks, last digits (not proof)",
        description="Screening, not proof. Read-only on the snapshot: the turnout / leader-share comet "
        "plot, integer-percentage peaks of turnout and of each list's share against a Monte-Carlo "
        "null of the same station sizes, and last-digit tests of vote counts, for the nation and "
        "each region (ranked). Method and measured error rates: docs/forensics.md.",
        epilog="Exit 0: screened (flags or not); 5: no counted station yet; 2: bad usage.",
    )
    parser.add_argument("--election", help="election id (default: the only one declared)")
    parser.add_argument("--as-of", help="screen the stations counted as of a log position or ISO timestamp")
    parser.add_argument(
        "--publication",
        metavar="ID",
        help="screen the stations counted as of this publication's based-on position and write its report "
        "once to <warehouse>/data/forensics/ID/ (a second run does nothing)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="also write images (SVG, PNG), tables (CSV, JSON) and forensics.html, all on one page",
    )
    parser.add_argument(
        "--draws",
        type=int,
        default=200,
        help=f"Monte-Carlo draws of the integer-peak null (default 200, at least {MIN_DRAWS})",
    )
    parser.add_argument("--format", choices=FORMATS, default="table")
    add_warehouse_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.publication is not None:
        return run_publication(args)

    from pipelines.audit.forensics import FLAG_LEVEL, SCREENING_NOTE
    from pipelines.audit.forensics_report import report_json, scope_records, write_report
    from pipelines.audit.forensics_screen import LIST_COLUMNS, SCOPE_COLUMNS, screen
    from pipelines.audit.forensics_stations import counted_stations
    from pipelines.core.errors import InputError
    from pipelines.publishing.seat_table import only_election, require_results_by, resolve_as_of
    from pipelines.store.event_store import open_read_only

    if args.draws < MIN_DRAWS:
        # With fewer draws no p-value can fall below the flag level: nothing could ever be flagged.
        raise InputError(
            f"--draws must be at least {MIN_DRAWS}, not {args.draws}", column="draws", value=str(args.draws)
        )
    with open_read_only(warehouse_paths(args).snapshot) as conn:
        election_id = only_election(conn, args.election)
        position = resolve_as_of(conn, args.as_of)
        if position is not None:
            require_results_by(conn, election_id, position, args.as_of)
        stations, position = counted_stations(conn, election_id, as_of=position)
    if len(stations) == 0:
        print(f"no counted polling station of {election_id} at log position {position}: nothing to screen")
        return EXIT_NO_RESULTS
    result = screen(stations, draws=args.draws)
    if args.format == "json":
        print(report_json(result, election_id=election_id, position=position, draws=args.draws), end="")
    elif args.format == "csv":
        print(render(scope_records(result), SCOPE_COLUMNS, "csv"))
    else:
        print(f"{SCREENING_NOTE}\n")
        print(
            f"{election_id} at log position {position}: {len(stations)} counted stations; leader "
            f"{result.leader}; flags at p < {FLAG_LEVEL} ({args.draws} null draws); regions ranked by flags\n"
        )
        print(render(scope_records(result), SCOPE_COLUMNS, "table"))
        print("\nEach list's share of valid list votes, integer-percent peaks (national):\n")
        print(render([p.record() for p in result.lists], LIST_COLUMNS, "table"))
        flagged = [s.scope for s in (result.national, *result.regions) if s.flags]
        print(
            f"\n{len(flagged)} of {1 + len(result.regions)} scopes raise a flag"
            + (f": {', '.join(flagged)}" if flagged else "")
            + ". Screening, not proof (docs/forensics.md)."
        )
    if args.out is not None:
        written = write_report(
            result, stations, args.out, election_id=election_id, position=position, draws=args.draws
        )
        if args.format == "table":
            print(f"wrote {len(written)} files to {args.out}")
    return EXIT_OK


def run_publication(args: argparse.Namespace) -> int:
    """`--publication ID`: the publication's own report, in its folder beside the publications."""
    from pipelines.audit.forensics import NULL_DRAWS, SCREENING_NOTE
    from pipelines.audit.forensics_publication import screen_publication
    from pipelines.core.errors import InputError

    others = {"--election": args.election, "--as-of": args.as_of, "--out": args.out}
    given = [name for name, value in others.items() if value is not None]
    if given or args.draws != NULL_DRAWS:
        # A publication has one report: its position, folder and draws are fixed by the publication.
        option = given[0] if given else "--draws"
        raise InputError(
            f"{option} cannot be given with --publication: a publication's report screens its election as "
            f"of its based-on position with {NULL_DRAWS} draws, into data/forensics/<publication>/",
            column=option.removeprefix("--"),
        )
    done = screen_publication(warehouse_paths(args), args.publication)
    if done.stations == 0:
        print(
            f"no counted polling station of {done.election_id} at log position {done.position} "
            f"({done.publication_id}): nothing to screen"
        )
        return EXIT_NO_RESULTS
    if done.written:
        print(
            f"{done.publication_id}: {done.stations} counted stations screened as of log position "
            f"{done.position}; report in {done.folder}\n{SCREENING_NOTE}"
        )
    else:
        print(f"{done.publication_id} was screened already: report in {done.folder} (nothing written)")
    return EXIT_OK
