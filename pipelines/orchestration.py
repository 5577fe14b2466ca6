"""What the Airflow tasks do, as plain functions: DAG files only wire these together.

Nothing here runs at DAG-parse time; every function is called from inside a task.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipelines.errors import PipelineError
from pipelines.event_store import WriterBusy
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


@contextmanager
def data_errors_fail_the_task() -> Iterator[None]:
    """Turn bad data and refusals into AirflowFailException: a retry cannot fix them. A busy writer
    and any other error propagate unchanged, so the task's retries apply."""
    from airflow.sdk.exceptions import AirflowFailException

    try:
        yield
    except WriterBusy:
        raise
    except PipelineError as exc:
        raise AirflowFailException(str(exc)) from exc


def reload_election(election_id: object, source: object, as_of: object) -> dict[str, Any]:
    """Rebuild one election into its reload warehouse beside the main one; log its seats and checksums."""
    from pipelines.historical_reload import parse_request
    from pipelines.historical_reload import reload_election as rebuild

    result = rebuild(warehouse_dir(), parse_request(election_id, source, as_of))
    for line in result.lines():
        log.info("%s", line)
    return result.to_dict()


def certify_election(
    election_id: str, *, override_reason: str | None, operator: str | None
) -> dict[str, Any]:
    """Publish the certified seat table in the main warehouse (journaled, so that a replay certifies too)."""
    from pipelines.event_store import EventStore
    from pipelines.operator_actions import perform
    from pipelines.publication import Publication
    from pipelines.warehouse_paths import WarehousePaths

    paths = WarehousePaths(warehouse_dir())
    if not paths.database.exists():
        raise PipelineError(f"no warehouse at {paths.root}: nothing has been ingested there")
    options = {"election": election_id, "override_reason": override_reason, "operator": operator}
    with EventStore.open_writer(paths) as store:  # the snapshot is refreshed before the lock is let go
        publication = perform(store, paths, "certify", options)
    assert isinstance(publication, Publication)  # certify publishes or raises
    seats = {row.list_id: row.seats for row in publication.allocation.rows}
    log.info(
        "certified %s (log position %d, sha256 %s)%s",
        publication.publication_id,
        publication.based_on_position,
        publication.table_sha256[:12],
        f" with override by {operator}: {override_reason}" if override_reason else "",
    )
    for list_id, count in seats.items():
        log.info("  %-24s %3d seats", list_id, count)
    return {"publication_id": publication.publication_id, "status": publication.status, "seats": seats}
