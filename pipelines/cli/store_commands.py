"""`elections ingest | seats | rebuild | sql`: the event store from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from pipelines.cli.output import FORMATS, render
from pipelines.core.errors import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, EXIT_QUARANTINED, InputError
from pipelines.core.paths import WarehousePaths, default_warehouse_dir
from pipelines.core.progress import progress
from pipelines.store.event_store import open_read_only
from pipelines.store.migrations import first_row
from pipelines.store.queries import query

if TYPE_CHECKING:
    from pipelines.publishing.quarantine_stakes import QuarantineStakes
    from pipelines.publishing.seat_bounds import BoundsAsOf
    from pipelines.rules.seat_projection import SeatProjection

SEAT_COLUMNS = (
    "ballot_order",
    "list_id",
    "name",
    "votes",
    "share_pct",
    "passed_threshold",
    "admitted_by_guarantee",
    "seats",
)


def add_warehouse_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--warehouse",
        type=Path,
        default=None,
        help="warehouse folder (default: $ELECTIONS_WAREHOUSE or ./warehouse)",
    )


def warehouse_paths(args: argparse.Namespace) -> WarehousePaths:
    return WarehousePaths(args.warehouse or default_warehouse_dir())


def register(subparsers: Any) -> None:
    ingest = subparsers.add_parser(
        "ingest",
        help="ingest protocol, annulment and declaration files or folders (or OpenElections files)",
        epilog="Folders are walked recursively, never through a link; links, special files and files "
        "above ELECTIONS_MAX_FILE_BYTES are refused unread. Exit 0: every file applied or a duplicate; "
        "4: something was quarantined (listed above the summary); 2: bad usage; 1: pipeline failure.",
    )
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    ingest.add_argument(
        "--election",
        help="the election the files are sent to (default: named in each file; required for openelections)",
    )
    ingest.add_argument(
        "--format",
        choices=("protocol", "openelections"),
        default="protocol",
        help="protocol files and declarations (default), or OpenElections precinct CSV files",
    )
    ingest.add_argument(
        "--layout",
        metavar="LAYOUT",
        help="read results files as a commission's own CSV through this layout: a shipped layout id "
        "(schemas/layouts/) or a layout file (docs/layouts.md); needs --election. A layout that does not "
        "fit a file refuses the command before anything is written (exit 2)",
    )
    ingest.add_argument(
        "--policy",
        choices=("row", "file"),
        default="row",
        help="quarantine bad rows only (row, default) or the whole file (file)",
    )
    add_warehouse_option(ingest)
    ingest.set_defaults(func=run_ingest)

    seats = subparsers.add_parser("seats", help="show the seat table, now or as of a log position or time")
    seats.add_argument("--election", help="election id (default: the only one declared)")
    seats.add_argument("--as-of", help="log position or ISO timestamp, e.g. 2021-01-10T23:00")
    seats.add_argument("--format", choices=FORMATS, default="table")
    seats.add_argument(
        "--projection",
        action="store_true",
        help="also project the final seats from the reported precincts, with a 90%% interval "
        "(an estimate, not a result; with --format csv/json only the projection is printed)",
    )
    seats.add_argument(
        "--replicates", type=int, default=400, help="bootstrap replicates of the projection (default 400)"
    )
    add_warehouse_option(seats)
    seats.set_defaults(func=run_seats)

    rebuild = subparsers.add_parser("rebuild", help="replay every projection from the log; print checksums")
    add_warehouse_option(rebuild)
    rebuild.set_defaults(func=run_rebuild)

    quarantine = subparsers.add_parser(
        "quarantine", help="list quarantined files and rows with their reasons"
    )
    quarantine.add_argument("--election", help="only this election")
    quarantine.add_argument("--format", choices=FORMATS, default="table")
    add_warehouse_option(quarantine)
    quarantine.set_defaults(func=run_quarantine)

    sql = subparsers.add_parser("sql", help="run a read-only SQL query against the latest snapshot")
    sql.add_argument("query")
    sql.add_argument("--format", choices=FORMATS, default="table")
    add_warehouse_option(sql)
    sql.set_defaults(func=run_sql)


def run_ingest(args: argparse.Namespace) -> int:
    from pipelines.gate.validation import ValidationPolicy
    from pipelines.ingestion.ingest import ingest_paths

    paths = warehouse_paths(args)
    if args.format == "openelections":
        from pipelines.ingestion.openelections_ingest import ingest_openelections

        if not args.election:
            raise InputError("--format openelections needs --election ID: the files do not name it")
        summary = ingest_openelections(args.paths, warehouse=paths.root, election_id=args.election)
    elif args.layout:
        from pipelines.gate.native_layout import load_layout
        from pipelines.ingestion.native_ingest import ingest_native

        if not args.election or args.format != "protocol":
            raise InputError("--layout needs --election ID (native files do not name it) and no --format")
        summary = ingest_native(
            args.paths,
            layout=load_layout(args.layout),
            election_id=args.election,
            warehouse=paths.root,
            policy=ValidationPolicy(mode=args.policy),
        )
    else:
        summary = ingest_paths(
            args.paths,
            warehouse=paths.root,
            election_id=args.election,
            policy=ValidationPolicy(mode=args.policy),
        )
    print("\n".join(summary.lines()))
    # Quarantine is a normal outcome, but a script must be able to tell it from "all accepted".
    return EXIT_OK if summary.all_accepted() else EXIT_QUARANTINED


def run_seats(args: argparse.Namespace) -> int:
    from pipelines.publishing.quarantine_stakes import quarantine_stakes
    from pipelines.publishing.seat_bounds import bounds_as_of
    from pipelines.publishing.seat_projection_as_of import projection_as_of
    from pipelines.publishing.seat_table import (
        allocate_totals,
        national_totals,
        only_election,
        require_results_by,
        resolve_as_of,
    )
    from pipelines.store.election_rules import rules_in_force

    paths = warehouse_paths(args)
    bounds: BoundsAsOf | None = None
    stakes: QuarantineStakes | None = None
    projected: SeatProjection | None = None
    with open_read_only(paths.snapshot) as conn:
        election_id = only_election(conn, args.election)
        position = resolve_as_of(conn, args.as_of)
        if position is None:
            rows = _dicts(conn, query("seat_table"), {"election": election_id})
            if not rows:
                print(f"no seat table has been published for {election_id} yet", file=sys.stderr)
                return EXIT_FAILURE
            based_on = int(str(rows[0]["based_on_position"]))
            rules = rules_in_force(conn, election_id, based_on)
            latest = first_row(conn.execute(query("latest_publication"), {"election": election_id}))
            standing = "" if latest is None else f"{latest[1]} ({latest[0]}); "
            certified = latest is not None and latest[1] == "certified"
        else:
            require_results_by(conn, election_id, position, args.as_of)
            rules = rules_in_force(conn, election_id, position)
            totals = national_totals(conn, election_id, as_of=position)
            rows = allocate_totals(totals, rules.profile).to_records()
            based_on = position
            standing = ""
            certified = False
        if args.format == "table" and not certified:
            bounds = bounds_as_of(conn, election_id, based_on, rules.profile)
            # The quarantine as it stands (after the table, too: a refused file does not republish it).
            head = first_row(conn.execute(query("log_head_position")))
            until = based_on if position is not None or head is None else int(str(head[0]))
            stakes = quarantine_stakes(conn, bounds.totals, until, rules.profile)
        if args.projection:
            projected = projection_as_of(
                conn, election_id, based_on, rules.profile, replicates=args.replicates
            )
    if projected is not None and args.format != "table":
        print(render(projection_records(projected), PROJECTION_COLUMNS, args.format))
        return EXIT_OK
    print(render(rows, SEAT_COLUMNS, args.format))
    if args.format == "table":
        total = sum(int(str(r["seats"])) for r in rows)
        print(
            f"\n{total} seats; {standing}{election_id}, based on log position {based_on}; "
            f"rules {rules.profile.profile_id} (sha256 {rules.sha256[:12]})"
        )
    if bounds is not None:
        print("\n" + bounds_text(bounds))
    if stakes is not None and stakes.materiality is not None:
        print(quarantine_text(stakes))
    if projected is not None:
        print("\n" + projection_text(projected))
    return EXIT_OK


PROJECTION_COLUMNS = (
    "list_id",
    "name",
    "reported_share_pct",
    "projected_votes",
    "projected_seats",
    "interval_low",
    "interval_high",
    "label",
)


def projection_records(p: SeatProjection) -> list[dict[str, object]]:
    """One record per list, each labelled: the projection is an estimate, never a result."""
    from pipelines.rules.number_text import percent_text

    return [
        {
            "list_id": x.list_id,
            "name": x.name,
            "reported_share_pct": percent_text(x.reported_share),
            "projected_votes": x.projected_votes,
            "projected_seats": x.projected_seats,
            "interval_low": x.low,
            "interval_high": x.high,
            "label": p.label,
        }
        for x in p.lists
    ]


def projection_text(p: SeatProjection) -> str:
    """The projection under its label, above and below: what it assumes, how the interval was made."""
    from pipelines.rules.number_text import percent_text

    level = percent_text(p.level).removesuffix(".00")
    head = (
        f"{p.label.upper()}: estimated final seats from {p.stations_reported:,} of {p.stations:,} "
        f"precinct(s) reported ({percent_text(p.reported_share)}% of registered voters), stratified by "
        f"{p.regions} region(s): each region's outstanding precincts assumed to vote like its reported ones"
    )
    if p.regions_unreported:
        head += (
            f" ({p.regions_unreported} region(s) with none reported: like every reported precinct "
            "together; in the interval, like a reported region drawn at random)"
        )
    rows = [
        {
            "list_id": x.list_id,
            "name": x.name,
            "reported_share_pct": percent_text(x.reported_share),
            "projected_seats": x.projected_seats,
            f"interval_{level}pct": str(x.low) if x.low == x.high else f"{x.low}-{x.high}",
        }
        for x in p.lists
    ]
    columns = ("list_id", "name", "reported_share_pct", "projected_seats", f"interval_{level}pct")
    if p.replicates:
        foot = (
            f"{level}% interval from {p.replicates} bootstrap replicates of the reported precincts "
            "in each region"
        )
        if p.replicates_undecided:
            foot += f" ({p.replicates_undecided} the rules could not allocate, left out)"
    else:
        foot = "every precinct reported: the projection is the count itself"
    return "\n".join(
        [head, render(rows, columns, "table"), f"{foot}; {p.label}: only the count decides seats"]
    )


def quarantine_text(stakes: QuarantineStakes) -> str:
    """One line: what a publication states of its quarantine, marked when it could change the table."""
    from pipelines.publishing.publication_certainty import quarantine_statement

    statement = quarantine_statement(stakes)
    return f"WARNING: {statement}" if stakes.material else statement


BOUNDS_COLUMNS = ("list_id", "name", "threshold", "fewest_seats", "most_seats")


def bounds_text(found: BoundsAsOf) -> str:
    """What the outstanding precincts can still change: each list's threshold status and seat interval."""
    b = found.bounds
    rows = [
        {
            "list_id": x.list_id,
            "name": found.names.get(x.list_id, x.list_id),
            "threshold": x.status,
            "fewest_seats": x.min_seats,
            "most_seats": x.max_seats,
        }
        for x in b.lists
    ]
    head = (
        f"Certainty bounds (provisional): {found.precincts_outstanding:,} precinct(s) outstanding, "
        f"at most {b.outstanding:,} more ballot(s) (their registered voters)"
    )
    lines = [head, render(rows, BOUNDS_COLUMNS, "table")]
    if b.fallback is not None:
        lines.append(f"every list 0-{b.total_seats} seats: {b.fallback}")
    lines.append(f"decided: {b.decided} of {b.total_seats} seats")
    return "\n".join(lines)


def run_rebuild(args: argparse.Namespace) -> int:
    from pipelines.publishing.publication import write_missing_publication_folders
    from pipelines.store.event_store import EventStore
    from pipelines.store.projections import projection_checksums, rebuild_projections

    paths = warehouse_paths(args)
    if not paths.database.exists():
        raise InputError(f"no warehouse at {paths.root}")
    # Three steps (the replay of the log, the checksums, lost folders): the first takes most of the time.
    with EventStore.open_writer(paths) as store, progress("rebuild", 3, unit="step") as bar:
        with store.transaction():
            position = rebuild_projections(store.conn)
        bar.advance()
        sums = projection_checksums(store.conn)
        bar.advance()
        # Existing folders are never rewritten; a lost one is rendered again from its events.
        restored = write_missing_publication_folders(store)
        bar.advance()
    print(f"rebuilt every projection from the log up to position {position}")
    for publication_id in restored:
        print(f"wrote the missing folder of publication {publication_id}")
    for table, digest in sums.items():
        print(f"{digest}  {table}")
    return EXIT_OK


QUARANTINE_COLUMNS = ("election_id", "file_name", "row_number", "column_name", "rule", "value", "message")


def run_quarantine(args: argparse.Namespace) -> int:
    paths = warehouse_paths(args)
    with open_read_only(paths.snapshot) as conn:
        rows = _dicts(conn, query("quarantine_listed"), {"election": args.election or None})
    print(render(rows, QUARANTINE_COLUMNS, args.format))
    if args.format == "table":
        print(f"\n{len(rows)} quarantined row(s) or file(s)")
    return EXIT_OK


def run_sql(args: argparse.Namespace) -> int:
    """One query on the snapshot; anything else is refused by its rule before it runs (exit 2)."""
    from pipelines.store.read_only_sql import SqlRefused, checked_query, engine_refusal

    paths = warehouse_paths(args)
    with open_read_only(paths.snapshot) as conn:
        try:
            cursor = conn.execute(checked_query(conn, args.query))
            columns = [d[0] for d in cursor.description or []]
            rows = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
        except SqlRefused as refused:
            print(refused, file=sys.stderr)
            return EXIT_BAD_INPUT
        except duckdb.Error as exc:
            print(engine_refusal(exc) or f"error: {str(exc).splitlines()[0]}", file=sys.stderr)
            return EXIT_BAD_INPUT
    print(render(rows, columns, args.format))
    return EXIT_OK


def _dicts(conn: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    columns = [d[0] for d in cursor.description or []]
    return [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
