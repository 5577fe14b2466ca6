"""Rebuild one election into a separate reload warehouse, deterministically, and publish it.

A reload never touches the main warehouse's log. It lives at
`<warehouse>/data/reloads/<election_id>[--as-of-<stamp>]/`, is built in a temporary folder beside
that path and swapped in whole, so a reader sees the previous reload or the new one, never half of one.

Sources:
- `history`: the shipped historical files (official totals, synthetic precincts), all received at one
  fixed moment, so two reloads append the same events;
- `archive`: the main warehouse's raw archive replayed in arrival order with the original receipt
  times (every election it holds, so log positions equal the original's), optionally only what had
  arrived by `as_of`.

Two reloads of the same election and source give identical projections (equal checksums of every
table, `proj_publications` included: a replay publishes at the original run's time, the history at a
fixed one). Only the log's `recorded_at`, and so its hash chain, differ: each reload is a new log.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pipelines.core.errors import InputError
from pipelines.core.paths import WarehousePaths
from pipelines.core.timestamps import parse_utc

Source = Literal["archive", "history"]
SOURCES: tuple[Source, ...] = ("archive", "history")
RELOADS_FOLDER = "reloads"
_ELECTION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_RENAME_EXCHANGE = 2  # linux/fs.h


@dataclass(frozen=True)
class ReloadRequest:
    election_id: str
    source: Source
    as_of: datetime | None = None  # naive UTC, like the archive's receipt times

    @property
    def folder_name(self) -> str:
        if self.as_of is None:
            return self.election_id
        fraction = f".{self.as_of.microsecond:06d}" if self.as_of.microsecond else ""
        return f"{self.election_id}--as-of-{self.as_of.strftime('%Y%m%dT%H%M%S')}{fraction}Z"


@dataclass(frozen=True)
class SeatRow:
    list_id: str
    name: str
    votes: int
    seats: int


@dataclass(frozen=True)
class ReloadResult:
    request: ReloadRequest
    folder: Path
    files: int
    quarantined: int
    publications: tuple[str, ...]
    seats: tuple[SeatRow, ...]
    checksums: dict[str, str]

    def lines(self) -> list[str]:
        as_of = f" as of {self.request.as_of.isoformat()} UTC" if self.request.as_of else ""
        out = [
            f"reloaded {self.request.election_id} from {self.request.source}{as_of} into {self.folder}",
            f"files: {self.files} ingested, {self.quarantined} quarantined; "
            f"publications: {', '.join(self.publications) or 'none'}",
            f"{'list':<24} {'votes':>12} {'seats':>5}",
        ]
        out.extend(f"{row.list_id:<24} {row.votes:>12,} {row.seats:>5}" for row in self.seats)
        out.append("projection checksums (sha256):")
        out.extend(f"  {table:<22} {digest}" for table, digest in self.checksums.items())
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for an Airflow XCom."""
        return {
            "election_id": self.request.election_id,
            "source": self.request.source,
            "as_of": self.request.as_of.isoformat() if self.request.as_of else None,
            "folder": str(self.folder),
            "files": self.files,
            "quarantined": self.quarantined,
            "publications": list(self.publications),
            "seats": {row.list_id: row.seats for row in self.seats},
            "checksums": self.checksums,
        }


def parse_request(election_id: object, source: object, as_of: object = None) -> ReloadRequest:
    """Check a reload's parameters as a person typed them; bad ones raise InputError."""
    if not isinstance(election_id, str) or not _ELECTION_ID.fullmatch(election_id):
        raise InputError(
            "an election id is letters, digits, '.', '_' or '-' (it names the reload's folder)",
            column="election_id",
            value=election_id,
        )
    if source not in SOURCES:
        raise InputError(f"source is one of {', '.join(SOURCES)}", column="source", value=source)
    moment: datetime | None = None
    if as_of not in (None, ""):
        if source != "archive":
            raise InputError(
                "as_of cuts the raw archive by arrival time; the shipped history has no arrival times",
                column="as_of",
                value=as_of,
            )
        moment = parse_utc(str(as_of), column="as_of", example="2021-01-10T23:00:00")
    return ReloadRequest(election_id, source, moment)


def reload_folder(warehouse: Path, request: ReloadRequest) -> Path:
    return WarehousePaths(warehouse).root / "data" / RELOADS_FOLDER / request.folder_name


def history_received_at(election_date: str) -> datetime:
    """The shipped history has no receipt times: every file counts as received, and the table as
    published, at midnight UTC after election day, so that two reloads record identical events."""
    return datetime.fromisoformat(election_date) + timedelta(days=1)


def reload_election(warehouse: Path, request: ReloadRequest, *, wait_seconds: float = 300.0) -> ReloadResult:
    """Build the reload in a temporary folder, publish it, then swap it in for any previous one."""
    _check_source(warehouse, request)  # before anything is created
    target = reload_folder(warehouse, request)
    target.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".building-{request.folder_name}-"))
    try:
        if request.source == "history":
            files, quarantined, publications = _rebuild_from_history(request, build)
        else:
            files, quarantined, publications = _rebuild_from_archive(
                warehouse, request, build, wait_seconds=wait_seconds
            )
        seats, checksums = _read_result(build, request.election_id)
        _swap_in(build, target)
    finally:
        shutil.rmtree(build, ignore_errors=True)  # the half-built folder, or the replaced reload
    return ReloadResult(request, target, files, quarantined, publications, seats, checksums)


def _check_source(warehouse: Path, request: ReloadRequest) -> None:
    from pipelines.synthetic.history import get_election

    if request.source == "history":
        get_election(request.election_id)
    elif not (WarehousePaths(warehouse).archive / "receipts.jsonl").is_file():
        raise InputError(
            "this warehouse has received no files: its raw archive is empty", file=str(warehouse)
        )


def _rebuild_from_history(request: ReloadRequest, build: Path) -> tuple[int, int, tuple[str, ...]]:
    from pipelines.ingestion.ingest import ingest_paths
    from pipelines.synthetic.history import get_election, write_history_files

    election = get_election(request.election_id)
    received_at = history_received_at(election.date)
    with tempfile.TemporaryDirectory(prefix=f"history-{request.election_id}-") as folder:
        paths = write_history_files(request.election_id, Path(folder), by_region=False)
        # Published at the same fixed moment too (a run would end at the wall clock), so that two
        # reloads are identical in every table.
        summary = ingest_paths(paths, warehouse=build, received_at=received_at, ended_at=received_at)
    publications = tuple(p.publication_id for p in summary.publications)
    return len(summary.files), summary.count("quarantined"), publications


def _rebuild_from_archive(
    warehouse: Path, request: ReloadRequest, build: Path, *, wait_seconds: float
) -> tuple[int, int, tuple[str, ...]]:
    from pipelines.ingestion.replay import replay_archive
    from pipelines.store.event_store import writer_lock

    main = WarehousePaths(warehouse)
    # The main warehouse's writer appends to the archive's receipt log: hold it still while replaying.
    with writer_lock(main, wait_seconds=wait_seconds):
        summary = replay_archive(main, build, until=request.as_of)
    publications = tuple(p.publication_id for p in summary.publications)
    return len(summary.files), summary.count("quarantined"), publications


def _read_result(build: Path, election_id: str) -> tuple[tuple[SeatRow, ...], dict[str, str]]:
    from pipelines.store.event_store import open_read_only
    from pipelines.store.projections import projection_checksums
    from pipelines.store.queries import query

    paths = WarehousePaths(build)
    if not paths.database.exists():
        raise InputError(f"nothing to reload: no file of {election_id} was received", value=election_id)
    with open_read_only(paths.database) as conn:
        declared = conn.execute(
            "SELECT 1 FROM proj_elections WHERE election_id = ?", [election_id]
        ).fetchall()
        if not declared:
            raise InputError(
                f"election {election_id!r} is not declared in what was received", value=election_id
            )
        cursor = conn.execute(query("seat_table"), {"election": election_id})
        columns = [d[0] for d in cursor.description or []]
        rows = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
        checksums = projection_checksums(conn)
    seats = tuple(SeatRow(str(r["list_id"]), str(r["name"]), int(r["votes"]), int(r["seats"])) for r in rows)
    return seats, checksums


def _swap_in(build: Path, target: Path) -> None:
    """Put `build` at `target` in one step; afterwards `build` holds the previous reload, if any."""
    if not target.exists():
        os.rename(build, target)
        build.mkdir()  # the caller removes `build` either way
        return
    if _exchange(build, target):
        return
    # No atomic exchange here (not Linux, or the file system lacks it): readers may find the folder
    # missing for an instant, but never half-built.
    parked = build.with_name(build.name + "-previous")
    os.rename(target, parked)
    os.rename(build, target)
    os.rename(parked, build)


def _exchange(first: Path, second: Path) -> bool:
    """renameat2(RENAME_EXCHANGE): swap two paths atomically. False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))
