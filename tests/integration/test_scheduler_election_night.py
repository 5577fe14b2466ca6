"""Election night on a real Airflow: scheduler, dag-processor, triggerer and API server with the
LocalExecutor on a private PostgreSQL, serving the repository's DAGs. A batch and its `_READY` marker
dropped into the inbox must reach the published seat table; so must an amendment dropped later.
The drop-to-publish latency of both is printed and written to `latency.json` in the test's folder."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb
import pytest

from pipelines.core.paths import WarehousePaths
from pipelines.orchestration.election_night_runs import runs, wait_until_idle
from pipelines.orchestration.local_airflow import (
    AirflowProcesses,
    LocalAirflow,
    api_token,
    migrate_database,
    prepare_home,
    running_airflow,
    wait_for_dag,
)
from pipelines.rules.rule_profiles import load_profile
from pipelines.rules.seat_allocation import ListVotes, allocate
from pipelines.synthetic.protocol_writer import write_atomically
from tests.integration.postgres_server import free_loopback_port, running_postgres
from tests.support.small_election import (
    ELECTION_ID,
    LISTS,
    declaration,
    expected_totals,
    precinct_ids,
    protocol,
    protocol_csv,
)

PUBLISH_TIMEOUT = 180.0
IDLE = 180.0  # until a drop meets a quiet scheduler, so that its latency is its own
AMENDED = "P004"


def expected_table(rows: Sequence[Mapping[str, object]]) -> dict[str, tuple[int, int]]:
    """The oracle: the seat engine applied straight to the sums of the dropped rows."""
    votes = expected_totals(rows)
    allocation = allocate(
        [ListVotes(lid, lid.title(), votes[lid], ballot_order=i) for i, lid in enumerate(LISTS, 1)],
        load_profile("kz-mazhilis-2021"),
    )
    return {r.list_id: (r.votes, r.seats) for r in allocation.rows}


def published_table(warehouse: Path) -> dict[str, tuple[int, int]]:
    snapshot = WarehousePaths(warehouse).snapshot
    if not snapshot.exists():
        return {}
    # The snapshot is replaced by rename, so a reader always opens a whole file.
    with duckdb.connect(str(snapshot), read_only=True) as conn:
        rows = conn.execute(
            "SELECT list_id, votes, seats FROM proj_seat_table WHERE election_id = ?", [ELECTION_ID]
        ).fetchall()
    return {str(lid): (int(votes), int(seats)) for lid, votes, seats in rows}


def wait_for_table(
    warehouse: Path, expected: dict[str, tuple[int, int]], since: float, processes: AirflowProcesses
) -> float:
    """Seconds from `since` until the published table equals `expected`."""
    seen: dict[str, tuple[int, int]] = {}
    while time.monotonic() - since < PUBLISH_TIMEOUT:
        seen = published_table(warehouse)
        if seen == expected:
            return time.monotonic() - since
        processes.raise_if_exited()
        time.sleep(0.25)
    raise AssertionError(f"published table still {seen} after {PUBLISH_TIMEOUT:.0f}s; expected {expected}")


def wait_for_a_report(warehouse: Path, since: float, processes: AirflowProcesses) -> float:
    """Seconds from `since` until the forensic report of one of the publications is in place."""
    paths = WarehousePaths(warehouse)
    while time.monotonic() - since < PUBLISH_TIMEOUT:
        published = {p.name for p in paths.publications.iterdir() if not p.name.startswith(".")}
        if paths.forensics.exists() and published & {p.name for p in paths.forensics.iterdir()}:
            return time.monotonic() - since
        processes.raise_if_exited()
        time.sleep(0.25)
    raise AssertionError(f"no forensic report of a publication after {PUBLISH_TIMEOUT:.0f}s")


@pytest.mark.airflow
@pytest.mark.timeout(300)
def test_scheduler_publishes_a_dropped_batch_and_then_its_amendment(tmp_path: Path) -> None:
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    inbox.mkdir()
    first = [protocol(pid, (500 - 7 * i, 90 + 5 * i, 70, 30 + i)) for i, pid in enumerate(precinct_ids())]
    index = precinct_ids().index(AMENDED)
    # A recount that moves enough votes from alpha to delta to change the seats.
    amendment = protocol(AMENDED, (120, 95, 70, 410), version=2, reason="recount ordered by the commission")
    amended = [*first[:index], amendment, *first[index + 1 :]]
    before, after = expected_table(first), expected_table(amended)
    assert {lid: s for lid, (_, s) in before.items()} != {lid: s for lid, (_, s) in after.items()}

    with running_postgres() as postgres:
        airflow: LocalAirflow = prepare_home(
            tmp_path / "airflow-home",
            database_url=postgres.sqlalchemy_url,
            api_port=free_loopback_port(),
            settings={
                "ELECTIONS_INBOX": str(inbox.resolve()),
                "ELECTIONS_WAREHOUSE": str(warehouse.resolve()),
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "2",
            },
        )
        began = time.monotonic()
        migrate_database(airflow)
        with running_airflow(airflow, timeout=150) as processes:
            token = api_token(airflow)
            wait_for_dag(airflow, "election_night", token, timeout=90)
            ready = time.monotonic()

            # Delivered as an uploader must: under a name the scan skips, then renamed.
            wait_until_idle(airflow, token, inbox, still_running=processes.raise_if_exited, timeout=IDLE)
            write_atomically(inbox / f"{ELECTION_ID}.election.json", json.dumps(declaration()).encode())
            write_atomically(inbox / "batch-1.csv", protocol_csv(first))
            (inbox / "_READY").touch()
            batch_latency = wait_for_table(warehouse, before, time.monotonic(), processes)

            wait_until_idle(airflow, token, inbox, still_running=processes.raise_if_exited, timeout=IDLE)
            write_atomically(inbox / "amendment-1.csv", protocol_csv([amendment]))
            (inbox / "_READY").touch()
            amendment_latency = wait_for_table(warehouse, after, time.monotonic(), processes)
            triggered_by = sorted(r.run_type for r in runs(airflow, token))
            # Nothing but the publications' asset event starts forensic_screening. Its first run
            # screens the batch's publication while the amendment arrives, so this rarely waits.
            screened_after = wait_for_a_report(warehouse, time.monotonic(), processes)

    figures = {
        "startup_seconds": round(ready - began, 1),
        "batch_drop_to_publish_seconds": round(batch_latency, 1),
        "amendment_drop_to_publish_seconds": round(amendment_latency, 1),
        "election_night_runs": triggered_by,
        "waited_for_a_forensic_report_seconds": round(screened_after, 1),
    }
    (tmp_path / "latency.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\nelection night on a real scheduler: {figures}")
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == [
        "amendment-1.csv",
        "batch-1.csv",
        f"{ELECTION_ID}.election.json",
    ]
    # Both triggers work: the every-minute schedule and the asset watcher on the marker.
    assert "asset_triggered" in triggered_by, triggered_by
