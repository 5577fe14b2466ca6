"""Every received file, kept as received (content-addressed, read-only, rejected files included), and
the journal of every input: file receipts with their ingest options, run ends, operator actions."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from pipelines.core.durable import append_line, fsync_folder
from pipelines.domain.events import BATCH_RECEIVED, ELECTION_DECLARED, RULES_AMENDED, canonical_json
from pipelines.store.queries import query


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# Events whose payload may name archived sidecar files (a precinct list, a rule profile file).
_ARCHIVE_NAME = re.compile(r"^[0-9a-f]{64}$")
_SIDECAR_KEY = re.compile(r"^[a-z0-9_]+_(csv|file)_sha256$")


def _sidecars(payload: str) -> list[tuple[str, str]]:
    """The archived files a declaration's payload names beside the declaration itself."""
    try:
        data = json.loads(payload)
    except json.JSONDecodeError:
        return []
    if not isinstance(data, dict):
        return []
    return [(f"sidecar {key}", str(value)) for key, value in sorted(data.items()) if _SIDECAR_KEY.match(key)]


@dataclass(frozen=True)
class ArchivedFile:
    sha256: str
    path: Path
    size: int
    original_name: str


RECEIPTS = "receipts.jsonl"


@dataclass(frozen=True)
class Receipt:
    """A file as it was received, with the options that shaped its ingest (`recorded_at` and
    `options` are missing from receipts written before they were journaled)."""

    sha256: str
    name: str
    size: int
    received_at: datetime
    recorded_at: datetime | None
    options: Mapping[str, Any]


@dataclass(frozen=True)
class RunEnd:
    """The end of an ingest run: where it published (when it did) what its files changed."""

    at: datetime
    publish: bool
    # The format of the folders it published (publishing/publication_layout.py); None when journaled
    # before formats were recorded, which were format 1.
    publication_format: int | None = None


@dataclass(frozen=True)
class OperatorAction:
    """A command an operator ran on the warehouse (publish, certify, ...), named for replay."""

    name: str
    at: datetime
    options: Mapping[str, Any]


@dataclass(frozen=True)
class Interrupted:
    """The writer before did not finish (killed, or failed with an error): its last input may have
    committed nothing, or part of what it would have. `head` is the log's last position as the next
    writer found it, which tells a replay how far that input got."""

    at: datetime
    head: int


JournalEntry = Receipt | RunEnd | OperatorAction | Interrupted


class RawArchive:
    """Files live at `<root>/<aa>/<sha256>`; `receipts.jsonl` is the journal of every input in
    arrival order: file receipts, the end of each ingest run, and operator actions. Each line is on
    disk before the events that depend on it are committed, so a replay of the journal meets every
    input the log has seen, in the same order, with the same options and times."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def journal_path(self) -> Path:
        return self.root / RECEIPTS

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def store(
        self,
        data: bytes,
        original_name: str,
        received_at: datetime,
        *,
        recorded_at: datetime | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> ArchivedFile:
        """Keep `data` (idempotent: the same bytes are stored once) and journal the receipt with
        the time the writer took the file (`recorded_at` of its events) and the `options` that a
        replay needs to ingest it the same way (format, election hint, validation policy...)."""
        digest = sha256_bytes(data)
        target = self.path_for(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename, so a killed writer never leaves a truncated archive file.
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
            os.replace(tmp, target)
            fsync_folder(target.parent)
        receipt = Receipt(digest, original_name, len(data), received_at, recorded_at, dict(options or {}))
        self.append(receipt)
        return ArchivedFile(digest, target, len(data), original_name)

    def read(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()

    def mark_run_end(
        self, completed_at: datetime, *, publish: bool = True, publication_format: int | None = None
    ) -> None:
        """Close an ingest run (before it publishes): a replay publishes where the original run did,
        in the format it did."""
        self.append(RunEnd(completed_at, publish, publication_format))

    def record_action(self, name: str, at: datetime, options: Mapping[str, Any]) -> None:
        """Journal an operator action before it takes effect; `at` is the time of its events."""
        self.append(OperatorAction(name, at, dict(options)))

    def mark_interrupted(self, at: datetime, head: int) -> None:
        """Note that the writer before did not finish, unless nothing was journaled since the last note."""
        self._cut_unfinished_line()
        entries = self.journal()
        if entries and not isinstance(entries[-1], Interrupted):
            self.append(Interrupted(at, head))

    def _cut_unfinished_line(self) -> None:
        """Drop a last line a killed writer left without its newline: it never reached the disk whole,
        so nothing was committed on it, and the next line must not be appended to it."""
        if not self.journal_path.exists():
            return
        data = self.journal_path.read_bytes()
        if data and not data.endswith(b"\n"):
            with self.journal_path.open("r+b") as handle:
                handle.truncate(data.rfind(b"\n") + 1)
                handle.flush()
                os.fsync(handle.fileno())

    def append(self, entry: JournalEntry) -> None:
        """Add one entry, on disk before this returns (a replay copies the entries it skips)."""
        self.root.mkdir(parents=True, exist_ok=True)
        append_line(self.journal_path, canonical_json(entry_json(entry)))

    def journal(self) -> list[JournalEntry]:
        """Every entry of the journal in order; receipts of older warehouses included."""
        if not self.journal_path.exists():
            return []
        data = self.journal_path.read_bytes()
        # A last line without its newline was cut short by a killed writer: not an entry.
        complete = data[: data.rfind(b"\n") + 1].decode("utf-8")
        return [_parse_entry(json.loads(line)) for line in complete.splitlines() if line.strip()]

    def receipts(self) -> list[Receipt]:
        return [entry for entry in self.journal() if isinstance(entry, Receipt)]

    def verify_received(self, conn: duckdb.DuckDBPyConnection) -> tuple[int, str] | None:
        """Every file a BatchReceived event names, and every sidecar file a declaration names
        (`<what>_csv_sha256` / `<what>_file_sha256` in its payload), must be in the archive with the
        same content."""
        rows = conn.execute(
            query("archived_file_references"),
            {"received": BATCH_RECEIVED, "declared": ELECTION_DECLARED, "amended": RULES_AMENDED},
        ).fetchall()
        checked: set[str] = set()
        for position, batch_id, payload in rows:
            names = [("file", str(batch_id))] if batch_id is not None else _sidecars(str(payload))
            for what, digest in names:
                if digest in checked:
                    continue
                path = self.path_for(digest)
                if not _ARCHIVE_NAME.match(digest) or not path.is_file():
                    return int(position), f"archived {what} {digest} of event {position} is missing"
                if sha256_file(path) != digest:
                    return int(position), f"archived {what} {digest} of event {position} was altered"
                checked.add(digest)
        return None

    def verify_receipts(self, conn: duckdb.DuckDBPyConnection) -> tuple[int, str] | None:
        """Every BatchReceived event has its receipt: the same file (sha256) received at
        the same time. A receipt without an event is a file whose ingest never committed."""
        try:
            receipts = {(r.sha256, r.received_at) for r in self.receipts()}
        except (ValueError, TypeError, KeyError) as exc:
            return 0, f"the receipts log {self.journal_path} cannot be read: {exc!r}"
        rows = conn.execute(
            "SELECT position, batch_id, occurred_at FROM events WHERE event_type = ? ORDER BY position",
            [BATCH_RECEIVED],
        ).fetchall()
        for position, batch_id, occurred_at in rows:
            if (str(batch_id), occurred_at) not in receipts:
                return int(position), (
                    f"event {position} received file {batch_id} at {occurred_at.isoformat()}, but the "
                    "receipts log records no such receipt (receipts.jsonl edited, or the event forged)"
                )
        return None


def entry_json(entry: JournalEntry) -> dict[str, Any]:
    """One journal line: the form `_parse_entry` reads back."""
    if isinstance(entry, RunEnd):
        line_end: dict[str, Any] = {"run_end": entry.at.isoformat(), "publish": entry.publish}
        if entry.publication_format is not None:
            line_end["publication_format"] = entry.publication_format
        return line_end
    if isinstance(entry, OperatorAction):
        return {"action": entry.name, "at": entry.at.isoformat(), "options": dict(entry.options)}
    if isinstance(entry, Interrupted):
        return {"interrupted": entry.at.isoformat(), "head": entry.head}
    line: dict[str, Any] = {
        "sha256": entry.sha256,
        "name": entry.name,
        "size": entry.size,
        "received_at": entry.received_at.isoformat(),
        "options": dict(entry.options),
    }
    if entry.recorded_at is not None:
        line["recorded_at"] = entry.recorded_at.isoformat()
    return line


def _parse_entry(entry: Mapping[str, Any]) -> JournalEntry:
    if "interrupted" in entry:
        return Interrupted(datetime.fromisoformat(entry["interrupted"]), int(entry["head"]))
    if "run_end" in entry:
        stated = entry.get("publication_format")
        return RunEnd(
            datetime.fromisoformat(entry["run_end"]),
            bool(entry.get("publish", True)),
            None if stated is None else int(stated),
        )
    if "action" in entry:
        return OperatorAction(str(entry["action"]), datetime.fromisoformat(entry["at"]), entry["options"])
    options = dict(entry.get("options", {}))
    if "sidecar" in entry:  # a rule profile read through its declaration, before options were journaled
        options.setdefault("sidecar_of", None)
        options.setdefault("path", entry["name"])
    if "format" in entry:  # before options were journaled, only OpenElections files had any
        options.setdefault("format", entry["format"])
        options.setdefault("election", entry.get("election_id"))
    recorded = entry.get("recorded_at")
    return Receipt(
        sha256=str(entry["sha256"]),
        name=str(entry["name"]),
        size=int(entry["size"]),
        received_at=datetime.fromisoformat(entry["received_at"]),
        recorded_at=None if recorded is None else datetime.fromisoformat(recorded),
        options=options,
    )
