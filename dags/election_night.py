"""Election night: pick up new protocol files, validate, append events, publish provisional seats."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.providers.standard.triggers.file import FileDeleteTrigger
from airflow.sdk import (
    Asset,
    AssetAlias,
    AssetOrTimeSchedule,
    AssetWatcher,
    CronTriggerTimetable,
    dag,
    task,
)

# Only environment lookups at parse time: no database, file or GX access here.
INBOX = os.environ.get("ELECTIONS_INBOX", "var/inbox")
WRITER_POOL = "warehouse_writer"

# The watcher's trigger deletes the file it sees, so it watches the marker, never the data.
inbox_ready = Asset(
    name="election_inbox_ready",
    uri=f"file://{os.path.abspath(INBOX)}/_READY",
    watchers=[
        AssetWatcher(
            name="inbox_ready_marker",
            trigger=FileDeleteTrigger(
                filepath=os.path.join(os.path.abspath(INBOX), "_READY"), poke_interval=0.5
            ),
        )
    ],
)

# An event on `publications` (declared the same in forensic_screening.py, which it schedules) each time
# a run publishes; through an alias because a plain outlet would fire on every successful ingest.
publications = Asset(name="election_publications", uri="elections://publications")
publications_made = AssetAlias(name="election_publications_made")

DOC = """
### Election night

Runs every minute and whenever a `_READY` marker lands in the inbox (`$ELECTIONS_INBOX`).

1. **scan_inbox** lists new files; when there are none the run ends at once.
2. **ingest_and_publish** (pool `warehouse_writer`, one slot: DuckDB has a single writer) archives
   each file as received, validates it with Great Expectations, appends its events to the log,
   updates the projections, and publishes a provisional seat table when the results moved.
   Quarantined rows and files are listed in this task's log, one line each, with their reasons.
   Files for a certified election are quarantined whole (rule `election_certified`) and publish
   nothing; the task still succeeds.
   Each run that publishes emits an event on the asset `election_publications`, which starts the
   `forensic_screening` DAG: the forensic report is written there, so no run here waits for it.

The run claims each settled file by renaming it into `inbox/.claimed/<run-id>/` before reading it
(a file delivered later waits for the next run) and moves it to `inbox/processed/` once its events are
committed. Links, FIFOs, devices and oversized files are refused unread, quarantined and moved to
`inbox/refused/`. Deliver as `name.part` and rename when complete.
"""


@dag(
    dag_id="election_night",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("* * * * *", timezone="UTC"), assets=[inbox_ready]
    ),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    doc_md=DOC,
    tags=["elections", "election-night"],
    default_args={"owner": "results-desk", "retries": 2, "retry_delay": timedelta(seconds=10)},
)
def election_night() -> None:
    @task.short_circuit
    def scan_inbox() -> list[str]:
        from pipelines.orchestration.dag_tasks import inbox_dir, pending_files

        return pending_files(inbox_dir())

    @task(pool=WRITER_POOL, outlets=[publications_made])
    def ingest_and_publish(files: list[str], *, outlet_events: Any = None) -> dict[str, Any]:
        from pipelines.orchestration.dag_tasks import inbox_dir, ingest_pending, warehouse_dir

        summary = ingest_pending(files, inbox=inbox_dir(), warehouse=warehouse_dir())
        if summary.get("publications"):
            outlet_events[publications_made].add(
                publications, extra={"publications": summary["publications"]}
            )
        return summary

    ingest_and_publish(scan_inbox())  # type: ignore[arg-type]  # an XComArg stands in for the list


election_night()
