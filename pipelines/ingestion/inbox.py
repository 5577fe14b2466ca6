"""The election-night inbox: a run claims each file by an atomic rename before reading a byte of it.

Uploaders write `name.csv.part` (or a hidden name) and rename it to `name.csv` when complete; files
whose modification time is younger than the settle time (`$ELECTIONS_SETTLE_SECONDS`, default 1 s)
are left for the next run, as possibly still being written.

A run, holding the writer lock, renames each settled file from `inbox/<path>` to
`inbox/.claimed/<run-id>/<path>` (same file system: the rename is atomic and follows no link) and
reads only what it claimed. A file delivered after the claim stays in the inbox for the next run; a
file renamed over one in the inbox before the claim is the one claimed and read. After the run's
events are committed and its publication made, claimed files move to `processed/`, files refused
unread (links, special files, too large) to `refused/` (both keep the sub-folders they came in), and
a file that changed while being read goes back to the inbox. Claims left by a run that died are taken
over by the next run, which holds the writer lock, so no live run owns them: what that run had
committed is seen as a duplicate, the rest is ingested.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePath

from pipelines.core.errors import InputError
from pipelines.gate.intake import PROCESSED, REFUSED, IntakeFile, in_arrival_order, walk
from pipelines.ingestion.ingest import FileOutcome

CLAIMS = ".claimed"  # hidden, so never walked as delivered data

SETTLE_SECONDS_ENV = "ELECTIONS_SETTLE_SECONDS"
# Small, since it adds to the drop-to-publish latency of a file written in place; a `.part` upload
# renamed when complete keeps its older modification time and is claimed at once.
DEFAULT_SETTLE_SECONDS = 1.0


def settle_seconds() -> float:
    """`$ELECTIONS_SETTLE_SECONDS`, else 1 s: how long a file must be left unmodified to be claimed."""
    raw = os.environ.get(SETTLE_SECONDS_ENV, "").strip()
    if not raw:
        return DEFAULT_SETTLE_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 3600:
        raise InputError(f"{SETTLE_SECONDS_ENV} must be a number of seconds from 0 to 3600", value=raw)
    return value


def delivered(inbox: Path) -> list[IntakeFile]:
    """What waits in the inbox (links and special files included: they are refused, then moved aside)."""
    if not inbox.is_dir():
        return []
    return walk(inbox)


def leftover_claims(inbox: Path, *, keep: Path | None = None) -> list[Path]:
    """Claim folders of runs that ended without finishing (all but `keep`)."""
    claims = inbox / CLAIMS
    try:
        if not stat.S_ISDIR(os.lstat(claims).st_mode):
            return []  # a link planted there: `claim` moves it aside
    except FileNotFoundError:
        return []
    return sorted(
        p
        for p in claims.iterdir()
        if p != keep and stat.S_ISDIR(os.lstat(p).st_mode) and not p.name.startswith(".")
    )


def waiting(inbox: Path) -> list[str]:
    """Paths the next run would take: delivered files and files claimed by a run that died."""
    left = [str(f.path) for claim in leftover_claims(inbox) for f in walk(claim)]
    return [str(f.path) for f in delivered(inbox)] + left


Look = tuple[int, int, int, float]  # inode, size, mtime_ns, mtime as `lstat` saw them


def _look(path: Path) -> Look | None:
    try:
        seen = os.lstat(path)
    except FileNotFoundError:
        return None
    return (seen.st_ino, seen.st_size, seen.st_mtime_ns, seen.st_mtime)


def wait_to_settle(
    inbox: Path,
    *,
    settle: float,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[Path, Look]:
    """Wait (at most `settle` seconds) until the files just written have been left alone that long,
    so that a drop followed by `_READY` is taken in this run, not the next one. Returns what each
    file looked like before the wait: a file that did not change during it is settled even if its
    clock is ahead of ours."""
    now = clock()
    looks = {f.path: look for f in delivered(inbox) if (look := _look(f.path)) is not None}
    young = [now - look[3] for look in looks.values() if now - look[3] < settle]
    if young:
        sleep(min(settle, max(settle - age for age in young)))
    return looks if young else {}


@dataclass
class Claim:
    """One run's files, renamed into its own folder; `files` are read from there."""

    inbox: Path
    folder: Path
    files: list[IntakeFile]


def _free_name(target: Path) -> Path:
    """`target`, or `name.1.csv`, `name.2.csv`... when it is taken: the same name twice keeps both."""
    candidate, counter = target, 1
    while os.path.lexists(candidate):
        candidate = target.with_name(f"{target.stem}.{counter}{target.suffix}")
        counter += 1
    return candidate


def _real_folders(base: Path, relative: PurePath) -> Path:
    """`base/relative`, every folder on the way a real one: a link or file planted where one of the
    inbox's own folders goes is renamed aside (hidden), so nothing is moved through it."""
    folder = base
    for part in relative.parts:
        folder = folder / part
        try:
            seen = os.lstat(folder)
        except FileNotFoundError:
            folder.mkdir()
            continue
        if not stat.S_ISDIR(seen.st_mode):
            os.rename(folder, folder.with_name(f".{part}.not-a-folder-{uuid.uuid4().hex[:8]}"))
            folder.mkdir()
    return folder


def _move(source: Path, target: Path, *, inbox: Path) -> Path | None:
    """Rename (never follows a link, never copies) to `target` below `inbox`; None when `source` is
    gone meanwhile."""
    _real_folders(inbox, PurePath(os.path.relpath(target.parent, inbox)))
    target = _free_name(target)
    try:
        os.rename(source, target)
    except FileNotFoundError:
        return None
    return target


def claim(
    inbox: Path,
    *,
    settle: float,
    before_wait: dict[Path, Look] | None = None,
    clock: Callable[[], float] = time.time,
) -> Claim:
    """Take this run's files (call it holding the writer lock): first what dead runs had claimed,
    then every delivered file left unmodified for `settle` seconds, or unchanged since `before_wait`
    (what `wait_to_settle` saw)."""
    run_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    folder = _real_folders(inbox, PurePath(CLAIMS, run_id))
    taken: list[IntakeFile] = []
    for old in leftover_claims(inbox, keep=folder):
        for f in walk(old):
            moved = _move(f.path, folder / old.name / f.relative, inbox=inbox)
            if moved is not None:
                relative = PurePath(moved.relative_to(folder))
                taken.append(IntakeFile(folder, relative, delivered_to=inbox / f.relative.parent))
        _remove_empty(old)
    now = clock()
    for f in delivered(inbox):
        look = _look(f.path)
        if look is None:
            continue  # gone meanwhile
        unchanged = before_wait is not None and before_wait.get(f.path) == look
        if now - look[3] < settle and not unchanged:
            continue  # still being written: the next run looks again
        moved = _move(f.path, folder / f.relative, inbox=inbox)
        if moved is not None:
            relative = PurePath(moved.relative_to(folder))
            taken.append(IntakeFile(folder, relative, delivered_to=inbox / f.relative.parent))
    return Claim(inbox, folder, in_arrival_order(taken))


def _remove_empty(folder: Path) -> None:
    """Remove `folder` and the empty folders below it; anything still in there stays."""
    for below, _dirs, _files in sorted(os.walk(folder), key=lambda w: -len(w[0])):
        with contextlib.suppress(OSError):  # not empty: something in it still waits
            os.rmdir(below)


def settle_claim(claimed: Claim, outcomes: Sequence[FileOutcome]) -> dict[str, int]:
    """Move each claimed file where its outcome says, once the run's events are committed: processed,
    refused (unread), or back to the inbox (it changed while being read); returns the counts."""
    counts = {"processed": 0, "refused": 0, "returned": 0}
    for outcome in outcomes:
        source = outcome.source
        if source is None or source.root != claimed.folder:
            continue
        delivered_at = PurePath(os.path.relpath(source.references, claimed.inbox), source.name)
        if outcome.status == "left":
            back = claimed.inbox / delivered_at
            if not os.path.lexists(back) and _move(source.path, back, inbox=claimed.inbox) is not None:
                counts["returned"] += 1
            continue  # else it stays claimed, and the next run takes it over
        folder = REFUSED if outcome.refused_unread is not None else PROCESSED
        if _move(source.path, claimed.inbox / folder / delivered_at, inbox=claimed.inbox) is not None:
            counts[folder] += 1
    _remove_empty(claimed.folder)
    return counts
