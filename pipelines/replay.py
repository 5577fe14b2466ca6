"""Replaying what was received: rebuild a warehouse from another one's raw archive, in arrival
order and with the original receipt times, optionally only what had arrived by a given moment.

The replay gets the same events in the same order, so its projections equal the original's
(up to the cut-off): "the results as they stood at 23:00 on election night", rebuilt at any time.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from pipelines.event_store import EventStore
from pipelines.ingest import (
    Ingestor,
    IngestSummary,
    changed_elections,
    publish_changed,
    refresh_snapshot,
    sidecar_place,
)
from pipelines.openelections_ingest import OpenElectionsIngestor
from pipelines.raw_archive import RawArchive
from pipelines.warehouse_paths import WarehousePaths


def replay_archive(
    source: WarehousePaths,
    target: Path,
    *,
    until: datetime | None = None,
    publish_results: bool = True,
) -> IngestSummary:
    """Ingest every file `source` received (up to `until`, inclusive) into a new warehouse at `target`."""
    if WarehousePaths(target).database.exists():
        raise FileExistsError(f"{target} already holds a warehouse: a replay starts from nothing")
    archive = RawArchive(source.archive)
    runs = [
        ([r for r in run if until is None or datetime.fromisoformat(str(r["received_at"])) <= until], end)
        for run, end in archive.runs()
    ]
    paths = WarehousePaths(target)
    summary = IngestSummary()
    with tempfile.TemporaryDirectory(prefix="replay-") as tmp, EventStore.open_writer(paths) as store:
        folder = Path(tmp)
        ingestor = Ingestor(store, paths)
        openelections = OpenElectionsIngestor(store, paths)
        for run, end in runs:
            # Precinct lists and rule profiles are read through the declaration that names them: lay
            # out the run's first (a later run may bring a corrected one under the same name).
            for receipt in run:
                place = sidecar_place(receipt)
                if place is not None:
                    (folder / place).parent.mkdir(parents=True, exist_ok=True)
                    (folder / place).write_bytes(archive.read(str(receipt["sha256"])))
            outcomes = []
            for receipt in run:
                name = Path(str(receipt["name"])).name
                if sidecar_place(receipt) is not None:
                    continue
                file = folder / name
                file.write_bytes(archive.read(str(receipt["sha256"])))
                received_at = datetime.fromisoformat(str(receipt["received_at"]))
                if receipt.get("format") == "openelections":
                    outcome, _lines = openelections.ingest_file(
                        file, election_id=str(receipt["election_id"]), received_at=received_at
                    )
                    outcomes.append(outcome)
                else:
                    outcomes.append(ingestor.ingest_file(file, received_at=received_at))
                file.unlink()
            summary.files.extend(outcomes)
            # Publish where the original run published, so positions and tables match it.
            if publish_results and outcomes:
                published_at = end or datetime.fromisoformat(str(run[-1]["received_at"]))
                publish_changed(
                    store, changed_elections(ingestor, outcomes), summary, occurred_at=published_at
                )
    refresh_snapshot(paths)
    return summary
