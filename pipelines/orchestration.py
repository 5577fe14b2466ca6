"""What the Airflow tasks do, as plain functions: DAG files only wire these together.

Nothing here runs at DAG-parse time; every function is called from inside a task.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

from pipelines.ingest import collect_files, ingest_paths
from pipelines.warehouse_paths import default_warehouse_dir

log = logging.getLogger(__name__)

PROCESSED = "processed"
READY_MARKER = "_READY"


def inbox_dir() -> Path:
    """`$ELECTIONS_INBOX`, else `./var/inbox`."""
    return Path(os.environ.get("ELECTIONS_INBOX", "var/inbox"))


def warehouse_dir() -> Path:
    return default_warehouse_dir()


def pending_files(inbox: Path) -> list[str]:
    """Data files waiting in the inbox (not markers, partial uploads or already processed files)."""
    if not inbox.is_dir():
        return []
    return [str(p) for p in collect_files([inbox])]


def _move_to_processed(inbox: Path, source: Path) -> None:
    done = inbox / PROCESSED
    done.mkdir(exist_ok=True)
    target = done / source.name
    counter = 1
    while target.exists():  # the same name delivered twice: keep both copies
        target = done / f"{source.stem}.{counter}{source.suffix}"
        counter += 1
    shutil.move(str(source), target)


def ingest_pending(files: list[str], *, inbox: Path, warehouse: Path) -> dict[str, Any]:
    """Ingest the listed files, publish a provisional table, and move the files out of the inbox.

    Files move only after their events are committed; a crash before that leaves them in the inbox
    and the next run sees them again (as duplicates where they had been committed)."""
    paths = [Path(f) for f in files if Path(f).exists()]
    if not paths:
        return {"files": 0, "lines": []}
    summary = ingest_paths(paths, warehouse=warehouse)
    for line in summary.lines():
        log.info("%s", line)
    for path in paths:
        _move_to_processed(inbox, path)
    return {
        "files": len(summary.files),
        "quarantined": summary.count("quarantined"),
        "publications": [p.publication_id for p in summary.publications],
        "lines": summary.lines(),
    }
