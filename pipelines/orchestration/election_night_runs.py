"""The election_night DAG's runs as Airflow's REST API reports them: when each run and each of its
tasks was queued, started and ended, when the asset event that set a run off was recorded, and
whether the DAG is at rest. Read by the drop-to-publish benchmark and the scheduler's integration test.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.orchestration.local_airflow import AirflowStartError, LocalAirflow, api_get

DAG_ID = "election_night"
READY_MARKER = "_READY"
PAGE = 100  # the API server's default maximum page size
BUSY_STATES = ("queued", "running")


@dataclass(frozen=True)
class TaskTiming:
    task_id: str
    state: str
    queued_at: datetime | None
    started_at: datetime | None  # when the task process reported it runs (before the DAG file is parsed)
    ended_at: datetime | None


@dataclass(frozen=True)
class RunTiming:
    run_id: str
    run_type: str  # "scheduled" (the every-minute cron), "asset_triggered" (the _READY marker), "manual"
    state: str
    queued_at: datetime | None  # the scheduler created the run
    started_at: datetime | None
    ended_at: datetime | None
    tasks: Mapping[str, TaskTiming] = field(default_factory=dict)
    asset_event_at: datetime | None = None  # the earliest asset event the run consumed (the watcher's)


def moment(value: object) -> datetime | None:
    """An API timestamp (ISO 8601, `Z` or an offset) as an aware UTC datetime; None when absent."""
    if not isinstance(value, str) or not value:
        return None
    parsed = datetime.fromisoformat(value)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _rows(airflow: LocalAirflow, token: str, path: str, key: str) -> list[dict[str, Any]]:
    """Every row of a paged API list (`key` names the list in the answer)."""
    rows: list[dict[str, Any]] = []
    separator = "&" if "?" in path else "?"
    while True:
        page = api_get(airflow, f"{path}{separator}limit={PAGE}&offset={len(rows)}", token)
        batch = page.get(key)
        if not isinstance(batch, list):
            raise AirflowStartError(f"GET {path}: no {key} list in the answer")
        rows.extend(batch)
        total = page.get("total_entries")
        if not batch or not isinstance(total, int) or len(rows) >= total:
            return rows


def runs(airflow: LocalAirflow, token: str) -> list[RunTiming]:
    """Every run of the DAG (without task timings), oldest first."""
    rows = _rows(airflow, token, f"/api/v2/dags/{DAG_ID}/dagRuns", "dag_runs")
    found = [
        RunTiming(
            run_id=str(row["dag_run_id"]),
            run_type=str(row["run_type"]),
            state=str(row["state"]),
            queued_at=moment(row.get("queued_at")),
            started_at=moment(row.get("start_date")),
            ended_at=moment(row.get("end_date")),
        )
        for row in rows
    ]
    return sorted(found, key=lambda r: (r.queued_at or datetime.max.replace(tzinfo=UTC), r.run_id))


def with_tasks(airflow: LocalAirflow, token: str, run: RunTiming) -> RunTiming:
    """The run with its tasks' timings and, when an asset event set it off, that event's time."""
    base = f"/api/v2/dags/{DAG_ID}/dagRuns/{urllib.parse.quote(run.run_id, safe='')}"
    tasks = {
        str(row["task_id"]): TaskTiming(
            task_id=str(row["task_id"]),
            state=str(row.get("state")),
            queued_at=moment(row.get("queued_when")),
            started_at=moment(row.get("start_date")),
            ended_at=moment(row.get("end_date")),
        )
        for row in _rows(airflow, token, f"{base}/taskInstances", "task_instances")
    }
    events = api_get(airflow, f"{base}/upstreamAssetEvents", token).get("asset_events") or []
    stamps = [m for e in events if (m := moment(e.get("timestamp"))) is not None]
    return RunTiming(
        run_id=run.run_id,
        run_type=run.run_type,
        state=run.state,
        queued_at=run.queued_at,
        started_at=run.started_at,
        ended_at=run.ended_at,
        tasks=tasks,
        asset_event_at=min(stamps, default=None),
    )


def wait_until_idle(
    airflow: LocalAirflow,
    token: str,
    inbox: Path,
    *,
    still_running: Callable[[], None],
    timeout: float,
) -> None:
    """Until no run is queued or running, no asset event waits for a run and no marker waits for the
    watcher: a file delivered then meets a quiet scheduler. `still_running` raises when Airflow died."""
    deadline = time.monotonic() + timeout
    while True:
        busy = any(r.state in BUSY_STATES for r in runs(airflow, token))
        queued = api_get(airflow, f"/api/v2/dags/{DAG_ID}/assets/queuedEvents", token).get("total_entries")
        if not busy and not queued and not (inbox / READY_MARKER).exists():
            return
        if time.monotonic() > deadline:
            raise AirflowStartError(f"{DAG_ID} did not come to rest within {timeout:.0f}s")
        still_running()
        time.sleep(0.5)
