"""Every received file, kept as received: content-addressed, read-only, rejected files included."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.events import BATCH_RECEIVED, canonical_json


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ArchivedFile:
    sha256: str
    path: Path
    size: int
    original_name: str


class RawArchive:
    """Files live at `<root>/<aa>/<sha256>`; `receipts.jsonl` lists every receipt in arrival order."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def store(
        self,
        data: bytes,
        original_name: str,
        received_at: datetime,
        *,
        meta: Mapping[str, str] | None = None,
    ) -> ArchivedFile:
        """Keep `data` (idempotent: the same bytes are stored once) and log the receipt, with `meta`
        (such as the format a file was sent as) that a replay needs to ingest it the same way."""
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
        with (self.root / "receipts.jsonl").open("a", encoding="utf-8") as log:
            log.write(
                canonical_json(
                    {
                        "sha256": digest,
                        "name": original_name,
                        "size": len(data),
                        "received_at": received_at.isoformat(),
                        **(meta or {}),
                    }
                )
                + "\n"
            )
        return ArchivedFile(digest, target, len(data), original_name)

    def read(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()

    def mark_run_end(self, completed_at: datetime) -> None:
        """Close an ingest run: a replay publishes where the original run published."""
        with (self.root / "receipts.jsonl").open("a", encoding="utf-8") as log:
            log.write(canonical_json({"run_end": completed_at.isoformat()}) + "\n")

    def runs(self) -> list[tuple[list[dict[str, object]], datetime | None]]:
        """Receipts in arrival order, grouped by the ingest run that received them, with the time
        each run ended (None for a run that never finished)."""
        log = self.root / "receipts.jsonl"
        if not log.exists():
            return []
        runs: list[tuple[list[dict[str, object]], datetime | None]] = []
        current: list[dict[str, object]] = []
        for line in log.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            entry = json.loads(line)
            if "run_end" in entry:
                runs.append((current, datetime.fromisoformat(entry["run_end"])))
                current = []
            else:
                current.append(entry)
        if current:
            runs.append((current, None))
        return [(receipts, end) for receipts, end in runs if receipts]

    def receipts(self) -> list[dict[str, object]]:
        return [receipt for run, _end in self.runs() for receipt in run]

    def verify_received(self, conn: duckdb.DuckDBPyConnection) -> tuple[int, str] | None:
        """Every file a BatchReceived event names must be in the archive with the same content."""
        rows = conn.execute(
            "SELECT position, batch_id FROM events WHERE event_type = ? ORDER BY position", [BATCH_RECEIVED]
        ).fetchall()
        for position, batch_id in rows:
            path = self.path_for(batch_id)
            if not path.exists():
                return int(position), f"archived file {batch_id} of event {position} is missing"
            if sha256_bytes(path.read_bytes()) != batch_id:
                return int(position), f"archived file {batch_id} of event {position} was altered"
        return None
