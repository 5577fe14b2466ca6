"""`elections publish | decertify | publications | diff`: versioned publications from the command line."""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import json
from pathlib import Path
from typing import Any

from pipelines.cli.output import FORMATS, render
from pipelines.cli.store_commands import add_warehouse_option, warehouse_paths
from pipelines.core.errors import EXIT_OK, InputError
from pipelines.store.event_store import open_read_only
from pipelines.store.queries import query

PUBLICATION_COLUMNS = (
    "publication_id",
    "status",
    "position",
    "based_on_position",
    "rule_profile",
    "published_at",
    "total_seats",
    "table_sha256",
    "revoked_position",
)


def register(subparsers: Any) -> None:
    publish = subparsers.add_parser(
        "publish", help="publish the current seat table (provisional, or certified with --certify)"
    )
    publish.add_argument("--certify", action="store_true", help="publish the certified, final result")
    publish.add_argument(
        "--override-reason",
        metavar="TEXT",
        help="certify although precincts are missing; the reason is recorded in the log",
    )
    publish.add_argument(
        "--precincts",
        action="store_true",
        help="the NIST export lists every precinct with its counts (recorded in the publication's event)",
    )
    publish.add_argument("--election", help="election id (default: the only one declared)")
    add_warehouse_option(publish)
    publish.set_defaults(func=run_publish)

    decertify = subparsers.add_parser(
        "decertify",
        help="revoke the certification in force (results are accepted again); reason and decider required",
    )
    decertify.add_argument("--election", help="election id (required: a revocation names what it revokes)")
    decertify.add_argument("--reason", metavar="TEXT", help="why the certification no longer stands")
    decertify.add_argument("--by", metavar="WHO", help="the person or body that decided the revocation")
    add_warehouse_option(decertify)
    decertify.set_defaults(func=run_decertify)

    listing = subparsers.add_parser("publications", help="list the publications and their folders")
    listing.add_argument("--election", help="only this election")
    listing.add_argument("--format", choices=FORMATS, default="table")
    add_warehouse_option(listing)
    listing.set_defaults(func=run_publications)

    diff = subparsers.add_parser(
        "diff", help="what changed in votes and seats between two publications, and which events caused it"
    )
    diff.add_argument("before", metavar="PUB_A")
    diff.add_argument("after", metavar="PUB_B")
    diff.add_argument("--format", choices=("table", "json"), default="table")
    add_warehouse_option(diff)
    diff.set_defaults(func=run_diff)


def run_publish(args: argparse.Namespace) -> int:
    from pipelines.ingestion.operator_actions import perform
    from pipelines.publishing.publication import Publication
    from pipelines.publishing.seat_table import only_election
    from pipelines.store.certification import certification_in_force
    from pipelines.store.event_store import EventStore

    if args.override_reason is not None and not args.certify:
        raise InputError("--override-reason only applies with --certify", column="override_reason")
    paths = warehouse_paths(args)
    if not paths.database.exists():
        raise InputError(f"no warehouse at {paths.root}: ingest something first")
    with EventStore.open_writer(paths) as store:
        election_id = only_election(store.conn, args.election)
        # Journaled with the resolved election, so that a replay repeats exactly this action.
        options: dict[str, object] = {"election": election_id, "precincts": bool(args.precincts)}
        certified = None
        if args.certify:
            options.update(override_reason=args.override_reason, operator=_operator())
            result = perform(store, paths, "certify", options)
        else:
            certified = certification_in_force(store.conn, election_id)
            result = perform(store, paths, "publish", options)
    if certified is not None:
        print(f"nothing published: {certified.describe()}")
        return EXIT_OK
    publication = result if isinstance(result, Publication) else None
    if publication is None:
        print(f"nothing changed since the last publication of {election_id}: nothing published")
        if args.precincts:
            print("(a publication's files never change: --precincts applies to the next publication)")
        return EXIT_OK
    folder = paths.publications / publication.publication_id
    print(
        f"published {publication.status} seat table {publication.publication_id} "
        f"(log position {publication.based_on_position}, sha256 {publication.table_sha256[:12]})"
    )
    print(f"files: {folder}")
    return EXIT_OK


def run_decertify(args: argparse.Namespace) -> int:
    from pipelines.ingestion.operator_actions import perform
    from pipelines.publishing.publication import Revocation
    from pipelines.store.event_store import EventStore

    needed = (
        ("election", args.election, "--election ID: the election whose certification is revoked"),
        ("reason", args.reason, "--reason TEXT: why the certification no longer stands"),
        ("by", args.by, "--by WHO: the person or body that decided the revocation"),
    )
    for option, value, what in needed:
        if value is None or not value.strip():
            message = f"decertify needs {what} (recorded in the log); nothing was revoked"
            raise InputError(message, column=option)
    paths = warehouse_paths(args)
    if not paths.database.exists():
        raise InputError(f"no warehouse at {paths.root}: nothing has been certified there")
    options = {
        "election": args.election,
        "reason": args.reason,
        "by": args.by,
        "operator": _operator(),
        "publish_provisional": True,
    }
    with EventStore.open_writer(paths) as store:
        revocation = perform(store, paths, "decertify", options)
    assert isinstance(revocation, Revocation)  # revoked, or refused with an error
    revoked, publication = revocation.certification, revocation.publication
    print(
        f"revoked the certification of {revoked.election_id} ({revoked.publication_id}, log position "
        f"{revoked.position}), decided by {args.by.strip()}: {args.reason.strip()}"
    )
    print(
        "results are accepted again; the revoked publication stays as published, under "
        f"{paths.publications / revoked.publication_id}"
    )
    if publication is not None:
        print(
            f"published the seat table in force as provisional again: {publication.publication_id} "
            f"(files: {paths.publications / publication.publication_id})"
        )
    return EXIT_OK


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def run_publications(args: argparse.Namespace) -> int:
    paths = warehouse_paths(args)
    with open_read_only(paths.snapshot) as conn:
        cursor = conn.execute(query("publications_listed"), {"election": args.election or None})
        columns = [d[0] for d in cursor.description or []]
        rows = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
    for row in rows:
        folder = paths.publications / str(row["publication_id"])
        row["folder"] = str(folder)
        row["files"] = _folder_state(folder)
    shown = (
        (*PUBLICATION_COLUMNS, "files")
        if args.format == "table"
        else (*PUBLICATION_COLUMNS, "election_id", "files", "folder")
    )
    print(render(rows, shown, args.format))
    return EXIT_OK


def _folder_state(folder: Path) -> str:
    """'verified' when every file matches the manifest's checksum, else what is wrong."""
    from pipelines.publishing.publication_check import check_folder as verify_publication

    if not folder.is_dir():
        return "missing"
    problems = verify_publication(folder)
    return "verified" if not problems else f"ALTERED: {problems[0]}"


def run_diff(args: argparse.Namespace) -> int:
    from pipelines.publishing.publication_diff import diff_lines, diff_publications

    paths = warehouse_paths(args)
    with open_read_only(paths.snapshot) as conn:
        diff = diff_publications(conn, args.before, args.after)
    if args.format == "json":
        print(json.dumps(dataclasses.asdict(diff), ensure_ascii=False, indent=2, default=str))
    else:
        print("\n".join(diff_lines(diff)))
    return EXIT_OK
