"""The log's head, recorded outside the database after every commit (`data/log_heads.jsonl`).

A hash chain cannot know by itself that its newest events were cut off, or that the whole chain was
recomputed: the anchor file remembers every head the writer committed. Each line is
`{"position":N,"event_hash":"..."}`; verification requires every line to name an event of the log
with that hash, positions never to go back, and the last line to be the log's head.

The file exists before the log's first commit: a writer that opens an empty log starts it with the
log's start (position 0 and the genesis hash, the head of an empty log), flushed with its folder. So
the first commit is anchored like every later one, and a missing file always means a lost file.

A writer killed between its COMMIT and the anchor line leaves a head ahead of the last anchor (the
start line, when it was the first commit); the next writer re-anchors it under the writer lock when
it opens the log. A writer that finds the file
missing while the log holds events starts a new file whose first line says so (`"restarted"`), so
that the loss stays visible to every later verification instead of being papered over.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from pipelines.core.durable import append_line

_HASH = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Anchor:
    line: int
    position: int
    event_hash: str
    restarted: str | None = None


@dataclass(frozen=True)
class AnchorFile:
    """The anchors as read, or why the file cannot be trusted as a whole (`problem`)."""

    exists: bool
    anchors: tuple[Anchor, ...]
    problem: str | None = None


def read_anchors(path: Path) -> AnchorFile:
    if not path.is_file():
        return AnchorFile(exists=False, anchors=())
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        return AnchorFile(True, (), f"{path.name}: the last line is cut off (the file was truncated)")
    anchors: list[Anchor] = []
    for number, raw in enumerate(data.decode("ascii", errors="replace").splitlines(), start=1):
        anchor = _parse(raw, number)
        if anchor is None:
            return AnchorFile(True, tuple(anchors), f"{path.name} line {number}: not a log head record")
        anchors.append(anchor)
    return AnchorFile(True, tuple(anchors))


def _parse(raw: str, number: int) -> Anchor | None:
    try:
        record = json.loads(raw)
    except json.JSONDecodeError:
        return None
    if not isinstance(record, dict):
        return None
    position, event_hash = record.get("position"), record.get("event_hash")
    restarted = record.get("restarted")
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        return None
    if not isinstance(event_hash, str) or not _HASH.match(event_hash):
        return None
    return Anchor(number, position, event_hash, restarted if isinstance(restarted, str) else None)


def anchor_line(position: int, event_hash: str, *, restarted: str | None = None) -> str:
    record: dict[str, object] = {"position": position, "event_hash": event_hash}
    if restarted is not None:
        record["restarted"] = restarted
    return json.dumps(record, separators=(",", ":"))


def append_anchor(path: Path, position: int, event_hash: str, *, restarted: str | None = None) -> None:
    """One write of one whole line, flushed to disk (with the folder when the file is new): a torn line
    would read as a truncation."""
    path.parent.mkdir(parents=True, exist_ok=True)
    append_line(path, anchor_line(position, event_hash, restarted=restarted))


def reanchor(path: Path, head: tuple[int, str]) -> None:
    """Under the writer lock: record a committed head that no anchor records yet (a writer killed
    between COMMIT and its anchor), or start the file at an empty log's head, before its first commit.
    A file that cannot be read as a whole is left as it is for verification to report."""
    position, event_hash = head
    found = read_anchors(path)
    if position == 0:
        if found.problem is None and not found.anchors:
            append_anchor(path, position, event_hash)
        return
    if not found.exists:
        append_anchor(
            path,
            position,
            event_hash,
            restarted=f"the anchor file was missing when a writer opened the log at position {position}",
        )
        return
    if found.problem is None and (not found.anchors or found.anchors[-1].position < position):
        append_anchor(path, position, event_hash)
