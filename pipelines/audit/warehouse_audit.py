"""`elections verify`: the auditor's check of a whole warehouse, trusting nothing stored inside it.

The warehouse is attached READ_ONLY to a fresh in-memory DuckDB, so unqualified names resolve only
to DuckDB's built-ins and to what this module defines: nothing stored in the file (a macro, a view)
is ever called. The log tables must be base tables with this version's columns; they are then read
through views this module creates over them. In order:

- schema: log tables are tables, not views; no stored macro shadows a built-in; the stored views
  and macros (what readers and the writer call) are exactly this version's definitions;
- chain: every event's content spelled with built-ins, hashed with hashlib, chained; no orphan figures;
- anchors: `log_heads.jsonl` present, whole, every line an event of the log, the last one its head;
  `--expect-head` against a head obtained out of band;
- archive and receipts: every received file and sidecar as archived, every BatchReceived receipted;
- projections: every projection rebuilt from the log in the scratch database and compared row by row;
- publications: every publication event has its folder, byte for byte what the log renders (manifest
  included), checked alone as a third party would, and no folder without an event.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from pipelines.core.errors import InputError
from pipelines.core.paths import WarehousePaths
from pipelines.domain.events import RESULTS_CERTIFIED, RESULTS_PUBLISHED
from pipelines.publishing.publication_check import check_folder as verify_publication
from pipelines.publishing.publication_files import publication_folder_files
from pipelines.publishing.publication_layout import MANIFEST, SIGNATURE
from pipelines.publishing.published_results import area_totals_of_publications
from pipelines.store.event_store import (
    HASH_TEXT_MACRO,
    LOG_TABLES,
    check_anchors,
    expected_columns,
    log_schema_problem,
    orphan_figures,
    recompute_chain,
    sql_text,
)
from pipelines.store.migrations import apply_migrations, apply_views, first_row
from pipelines.store.projections import PROJECTION_TABLES, rebuild_projections
from pipelines.store.queries import query, statement
from pipelines.store.raw_archive import RawArchive

REPORT_FORMAT = "elections-verify/1"
VERIFY_MEMORY_ENV = "ELECTIONS_VERIFY_MEMORY"
CHECKS = ("schema", "chain", "anchors", "expected_head", "archive", "receipts", "projections", "publications")
# The name the checked warehouse is attached under (create_projection_differences.sql names it too).
_LIVE = "warehouse"
_HEAD = re.compile(r"^(?:(\d+):)?([0-9a-f]{64})$")


@dataclass(frozen=True)
class Finding:
    check: str
    message: str
    position: int | None = None
    where: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "position": self.position, "where": self.where, "message": self.message}


@dataclass
class AuditReport:
    warehouse: str
    events: int = 0
    head_position: int = 0
    head_hash: str = ""
    checks: dict[str, str] = field(default_factory=lambda: dict.fromkeys(CHECKS, "not run"))
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def intact(self) -> bool:
        return not self.findings

    def record(self, check: str, found: list[Finding]) -> None:
        self.checks[check] = "failed" if found else "ok"
        self.findings.extend(found)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": REPORT_FORMAT,
            "warehouse": self.warehouse,
            "intact": self.intact,
            "events": self.events,
            "head": {"position": self.head_position, "event_hash": self.head_hash},
            "checks": self.checks,
            "findings": [f.to_json() for f in self.findings],
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class ExpectedHead:
    """A head obtained out of band: a hash, optionally at a position."""

    position: int | None
    event_hash: str

    @classmethod
    def parse(cls, text: str) -> ExpectedHead:
        match = _HEAD.match(text.strip().lower())
        if match is None:
            raise InputError(
                "--expect-head takes HASH or POSITION:HASH (64 hex digits), e.g. 1234:9f86d0...",
                column="expect-head",
                value=text,
            )
        return cls(None if match.group(1) is None else int(match.group(1)), match.group(2))


def audit_warehouse(
    paths: WarehousePaths, *, expect_head: ExpectedHead | None = None, public_key: Path | None = None
) -> AuditReport:
    """Every check of the module docstring; a finding names what failed and where."""
    if not paths.database.is_file():
        raise InputError(f"no warehouse at {paths.root}", file=str(paths.database))
    started = time.monotonic()
    report = AuditReport(str(paths.root))
    with _auditor_connection(paths) as conn:
        _audit(conn, paths, report, expect_head, public_key)
    report.seconds = time.monotonic() - started
    return report


@contextmanager
def _auditor_connection(paths: WarehousePaths) -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh in-memory database (the scratch) with the warehouse attached read-only."""
    with tempfile.TemporaryDirectory(prefix="elections-verify-") as spill:
        # Not the writer's 1 GB: the ordered aggregation of a million protocols' votes cannot spill
        # and ran out of it at 1M polling stations. DuckDB's default (80 % of RAM) unless set.
        config: dict[str, str | bool | int | float | list[str]] = {"temp_directory": spill}
        if os.environ.get(VERIFY_MEMORY_ENV):
            config["memory_limit"] = os.environ[VERIFY_MEMORY_ENV]
        conn = duckdb.connect(config=config)
        try:
            conn.execute(f"ATTACH {sql_text(str(paths.database))} AS {_LIVE} (READ_ONLY)")
            conn.execute("SET enable_external_access = false")
            conn.execute("SET enable_progress_bar = false")
            yield conn
        finally:
            conn.close()


def _audit(
    conn: duckdb.DuckDBPyConnection,
    paths: WarehousePaths,
    report: AuditReport,
    expect_head: ExpectedHead | None,
    public_key: Path | None,
) -> None:
    problem = log_schema_problem(conn, _LIVE)
    schema = [] if problem is None else [Finding("schema", problem)]
    if problem is None:
        _prepare_scratch(conn)
        schema = _stored_definitions(conn)
    report.record("schema", schema)
    if problem is not None:
        return  # the log cannot be read as the log
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="verify-on-the-log") as pool:
        # The checks that read the log as true run beside the chain's hashing: that loop holds the
        # GIL, they are mostly DuckDB, which lets it go (at 1M stations ~1.6x less time on 2 cores).
        # Their findings count only if the chain holds; if it breaks they are stopped and dropped.
        on_the_log = pool.submit(_checks_on_the_log, conn, paths, public_key, stop)
        chain_conn = conn.cursor()  # a connection of its own: one thread each
        try:
            chain_conn.execute(HASH_TEXT_MACRO)
            events, broken, head = recompute_chain(chain_conn)
            orphan = orphan_figures(chain_conn) if broken is None else None
        except BaseException:
            _stop(conn, stop, on_the_log)
            raise
        finally:
            chain_conn.close()
        report.events, (report.head_position, report.head_hash) = events, head
        chain = [] if broken is None else [Finding("chain", broken[1], broken[0], "events")]
        if orphan is not None:
            chain.append(Finding("chain", f"figures stored for position {orphan} belong to no event", orphan))
        if chain:
            _stop(conn, stop, on_the_log)
        else:
            found_on_the_log = on_the_log.result()
    report.record("chain", chain)
    if chain:
        return  # what follows reads the log as true
    cut = check_anchors(conn, paths.log_heads, head)
    report.record(
        "anchors", [] if cut is None else [Finding("anchors", cut[1], cut[0], str(paths.log_heads))]
    )
    if expect_head is not None:
        report.record("expected_head", _expected_head(conn, expect_head, head))
    for check, found in found_on_the_log:
        report.record(check, found)


def _checks_on_the_log(
    conn: duckdb.DuckDBPyConnection, paths: WarehousePaths, public_key: Path | None, stop: threading.Event
) -> list[tuple[str, list[Finding]]]:
    """Archive, receipts, projections and publications, in that order; stops between them when told."""
    archive = RawArchive(paths.archive)
    done: list[tuple[str, list[Finding]]] = []
    for check, found in (
        ("archive", archive.verify_received(conn)),
        ("receipts", archive.verify_receipts(conn)),
    ):
        done.append((check, [] if found is None else [Finding(check, found[1], found[0] or None)]))
    if stop.is_set():
        return done
    conn.execute("BEGIN TRANSACTION")
    rebuild_projections(conn)
    conn.execute("COMMIT")
    done.append(("projections", _projection_differences(conn)))
    if stop.is_set():
        return done
    done.append(("publications", _publication_problems(conn, paths, public_key)))
    return done


def _stop(conn: duckdb.DuckDBPyConnection, stop: threading.Event, work: Future[Any]) -> None:
    """Stop the checks beside the chain and wait for them; what they found or raised is dropped."""
    stop.set()
    while not work.done():
        conn.interrupt()  # a query between two of its statements misses it: ask until it ends
        wait([work], timeout=0.05)
    work.exception()  # retrieved, so that it is not reported as never retrieved


def _prepare_scratch(conn: duckdb.DuckDBPyConnection) -> None:
    """This version's schema in the scratch, its log tables replaced by views of the warehouse's."""
    apply_migrations(conn)
    apply_views(conn)
    live_tables = _live_tables(conn)
    for table in LOG_TABLES:
        if table in live_tables:
            conn.execute(f"DROP TABLE main.{table}")
            conn.execute(f"CREATE VIEW main.{table} AS SELECT * FROM {_LIVE}.main.{table}")


def _live_tables(conn: duckdb.DuckDBPyConnection) -> set[str]:
    return {str(r[0]) for r in conn.execute(query("stored_tables"), {"database": _LIVE}).fetchall()}


def _stored_definitions(conn: duckdb.DuckDBPyConnection) -> list[Finding]:
    """The warehouse's views and macros must be this version's: readers, publications and the
    writer call them, so a redefined one changes what they show without touching the log."""
    found = []
    for kind, sql in (("view", query("stored_views")), ("macro", query("stored_macros"))):
        live = dict(conn.execute(sql, {"database": _LIVE}).fetchall())
        mine = dict(conn.execute(sql, {"database": "memory"}).fetchall())
        for table in LOG_TABLES:
            mine.pop(table, None)  # the scratch's own views of the log tables
        for name in sorted(set(live) | set(mine)):
            if name not in mine:
                found.append(
                    Finding("schema", f"the warehouse stores a {kind} {name} that this version never defines")
                )
            elif name not in live:
                found.append(
                    Finding("schema", f"the {kind} {name} of this version is missing from the warehouse")
                )
            elif live[name] != mine[name]:
                found.append(
                    Finding(
                        "schema",
                        f"the {kind} {name} stored in the warehouse differs from this version's definition "
                        "(redefined, or written by another version of this software)",
                    )
                )
    return found


def _expected_head(
    conn: duckdb.DuckDBPyConnection, expected: ExpectedHead, head: tuple[int, str]
) -> list[Finding]:
    row = first_row(conn.execute(query("first_position_of_hash"), {"event_hash": expected.event_hash}))
    position = None if row is None or row[0] is None else int(str(row[0]))
    if expected.position is not None and position != expected.position:
        at = first_row(conn.execute(query("event_hash_at"), {"position": expected.position}))
        what = "does not exist" if at is None else f"has hash {at[0]}"
        return [
            Finding(
                "expected_head",
                f"the head obtained out of band is {expected.event_hash} at position "
                f"{expected.position}, but event {expected.position} of this log {what}: "
                "the log was rewritten or cut",
                expected.position,
            )
        ]
    if position is None:
        return [
            Finding(
                "expected_head",
                f"no event of this log has the hash {expected.event_hash} obtained out of band "
                f"(the log's head is {head[1]} at position {head[0]}): the log was rewritten or cut",
            )
        ]
    return []


def _projection_differences(conn: duckdb.DuckDBPyConnection) -> list[Finding]:
    """Each live projection against the one rebuilt from the log: the first row that differs."""
    expected = expected_columns()
    live_tables = _live_tables(conn)
    found = []
    for table in (*PROJECTION_TABLES, "projection_checkpoints"):
        if table not in live_tables:
            found.append(Finding("projections", f"{table} is missing or not a table", where=table))
            continue
        columns = tuple(
            (str(c), str(t))
            for c, t in conn.execute(query("stored_columns"), {"database": _LIVE, "table": table}).fetchall()
        )
        if columns != expected[table]:
            found.append(
                Finding("projections", f"{table} has other columns than this version's", where=table)
            )
            continue
        names = [c for c, _ in columns]
        conn.execute(statement("create_projection_differences", table=[table]))
        live_only, rebuilt_only = (
            first_row(conn.execute(query("first_projection_difference"), {"live": live}))
            for live in (True, False)
        )
        if live_only is None and rebuilt_only is None:
            continue
        parts = []
        if live_only is not None:
            parts.append(f"the live row {_row_text(names, live_only)} is not in the rebuild")
        if rebuilt_only is not None:
            parts.append(f"the rebuilt row {_row_text(names, rebuilt_only)} is not in the live table")
        found.append(
            Finding(
                "projections",
                f"{table} differs from the projection rebuilt from the log: " + "; ".join(parts),
                where=table,
            )
        )
    return found


def _row_text(names: list[str], row: tuple[Any, ...]) -> str:
    return "(" + ", ".join(f"{n}={v!r}" for n, v in zip(names, row, strict=True)) + ")"


def _publication_problems(
    conn: duckdb.DuckDBPyConnection, paths: WarehousePaths, public_key: Path | None
) -> list[Finding]:
    """Every publication event's folder, byte for byte as the log renders it; no folder without one."""
    rows = conn.execute(
        query("publication_events"), {"published": RESULTS_PUBLISHED, "certified": RESULTS_CERTIFIED}
    ).fetchall()
    found = []
    recorded = set()
    counted = area_totals_of_publications(conn)  # every base in one pass over the log, not one each
    for position, pub_id in rows:
        publication_id = str(pub_id)
        recorded.add(publication_id)
        folder = paths.publications / publication_id
        where = str(folder)
        if not folder.is_dir():
            found.append(
                Finding(
                    "publications", f"the folder of publication {publication_id} is missing", position, where
                )
            )
            continue
        expected = publication_folder_files(conn, publication_id, counted=counted)
        present = {p.name for p in folder.iterdir()} - {SIGNATURE}
        for name in sorted(set(expected) | present):
            problem = _file_problem(folder, name, expected.get(name), publication_id)
            if problem is not None:
                found.append(Finding("publications", problem, position, f"{where}/{name}"))
        if public_key is not None:
            found.extend(
                Finding("publications", f"{publication_id}: {p}", position, where)
                for p in verify_publication(folder, public_key)
            )
    if paths.publications.is_dir():
        for folder in sorted(paths.publications.iterdir()):
            if not folder.name.startswith(".") and folder.name not in recorded:
                found.append(
                    Finding(
                        "publications",
                        f"{folder.name} is a publication folder of no publication event",
                        where=str(folder),
                    )
                )
    return found


def _file_problem(folder: Path, name: str, expected: bytes | None, publication_id: str) -> str | None:
    if expected is None:
        return f"{publication_id}/{name} is not a file of this publication"
    path = folder / name
    if not path.is_file():
        return f"{publication_id}/{name} is missing"
    if path.read_bytes() != expected:
        what = "the manifest" if name == MANIFEST else "the file"
        return f"{publication_id}/{name}: {what} differs from what the log renders for this publication"
    return None
