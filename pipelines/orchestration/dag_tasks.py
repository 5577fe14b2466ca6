"""What the Airflow tasks do, as plain functions: DAG files only wire these together.

Nothing here runs at DAG-parse time; every function is called from inside a task.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipelines.core.errors import PipelineError
from pipelines.core.paths import default_warehouse_dir
from pipelines.gate.intake import IntakeFile
from pipelines.ingestion.inbox import Claim, claim, settle_claim, settle_seconds, wait_to_settle, waiting
from pipelines.ingestion.ingest import ingest_sources
from pipelines.store.event_store import WriterBusy

log = logging.getLogger(__name__)

READY_MARKER = "_READY"


def inbox_dir() -> Path:
    """`$ELECTIONS_INBOX`, else `./var/inbox`."""
    return Path(os.environ.get("ELECTIONS_INBOX", "var/inbox"))


def warehouse_dir() -> Path:
    return default_warehouse_dir()


def pending_files(inbox: Path) -> list[str]:
    """What the next run would take: delivered files (not markers, partial uploads, profiles, sidecars
    or already processed or refused files) and files claimed by a run that died."""
    return waiting(inbox)


def ingest_pending(files: list[str], *, inbox: Path, warehouse: Path) -> dict[str, Any]:
    """Claim the inbox's settled files, ingest them, publish a provisional table, and move them on.

    `files` is what the scan saw: when empty there is nothing to do; otherwise the run claims what
    the inbox holds once it has the writer lock (`pipelines.ingestion.inbox`). Files move only after their
    events are committed; a run that dies leaves them claimed and the next run takes them over."""
    if not files:
        return {"files": 0, "lines": []}
    settle = settle_seconds()
    before_wait = wait_to_settle(inbox, settle=settle)
    claimed: list[Claim] = []

    def take() -> list[IntakeFile]:
        claimed.append(claim(inbox, settle=settle, before_wait=before_wait))
        return claimed[0].files

    summary = ingest_sources(take, warehouse=warehouse, leave_changed=True)
    moved = settle_claim(claimed[0], summary.files) if claimed else {}
    for line in summary.lines():
        log.info("%s", line)
    return {
        "files": len(summary.files),
        "quarantined": summary.count("quarantined"),
        "refused_unread": moved.get("refused", 0),
        "left_for_next_run": moved.get("returned", 0),
        "publications": [p.publication_id for p in summary.publications],
        "lines": summary.lines(),
    }


def screen_newest_publications(*, warehouse: Path) -> dict[str, Any]:
    """The forensic_screening DAG: screen each election's newest publication that has no report yet.

    Found in the readers' snapshot, not passed along by election night, so a run that missed one
    (failed, or not triggered) is caught up by the next; older unscreened ones are skipped on purpose."""
    from pipelines.audit.forensics_publication import newest_unscreened
    from pipelines.core.paths import WarehousePaths

    return screen_published(newest_unscreened(WarehousePaths(warehouse)), warehouse=warehouse)


def screen_published(publication_ids: list[str], *, warehouse: Path) -> dict[str, Any]:
    """Write the forensic report of each publication, from the readers' snapshot (no writer lock:
    docs/forensics.md). Every publication is tried; any failure fails the task afterwards, and never
    touches the publications, which were written before."""
    from pipelines.audit.forensics_publication import screen_publication
    from pipelines.core.paths import WarehousePaths

    paths = WarehousePaths(warehouse)
    screened: list[str] = []
    failed: list[str] = []
    for publication_id in publication_ids:
        try:
            done = screen_publication(paths, publication_id)
        except Exception:  # logged with its traceback; the others are still screened
            log.exception("forensic screen of %s failed", publication_id)
            failed.append(publication_id)
            continue
        if done.written:
            log.info(
                "screened %s: %s counted stations as of log position %d -> %s",
                publication_id,
                done.stations,
                done.position,
                done.folder,
            )
        elif done.stations == 0:
            log.info("%s counted no station: nothing to screen", publication_id)
        else:
            log.info("%s was screened already: %s", publication_id, done.folder)
        screened.append(publication_id)
    if failed:
        raise PipelineError(f"forensic screen failed for {', '.join(failed)} (its publication stands)")
    return {"screened": screened}


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
    from pipelines.orchestration.historical_reload import parse_request
    from pipelines.orchestration.historical_reload import reload_election as rebuild

    result = rebuild(warehouse_dir(), parse_request(election_id, source, as_of))
    for line in result.lines():
        log.info("%s", line)
    return result.to_dict()


def certify_election(
    election_id: str, *, override_reason: str | None, operator: str | None
) -> dict[str, Any]:
    """Publish the certified seat table in the main warehouse (journaled, so that a replay certifies too)."""
    from pipelines.core.paths import WarehousePaths
    from pipelines.ingestion.operator_actions import perform
    from pipelines.publishing.publication import Publication
    from pipelines.store.event_store import EventStore

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
