"""A whole simulated night through the election_night DAG ends where loading the election in one
go ends (minus the precinct the night annuls)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb

from pipelines.core.paths import WarehousePaths
from pipelines.ingestion.ingest import ingest_paths
from pipelines.orchestration.local_airflow import LocalAirflow
from pipelines.synthetic.history import national_totals_of, write_history_files
from pipelines.synthetic.simulator import plan_night, write_recording

REPO = Path(__file__).resolve().parents[2]
ELECTION = "kz-mazhilis-2021"
HOUR = 3600


def seat_table(warehouse: Path) -> dict[str, tuple[int, int]]:
    with duckdb.connect(str(WarehousePaths(warehouse).snapshot), read_only=True) as conn:
        rows = conn.execute("SELECT list_id, votes, seats FROM proj_seat_table").fetchall()
    return {str(lid): (int(votes), int(seats)) for lid, votes, seats in rows}


def test_a_night_in_waves_through_the_dag_ends_with_the_one_go_seat_table(
    airflow_home: LocalAirflow, tmp_path: Path
) -> None:
    plan = plan_night(ELECTION, batches_per_region=1)
    recording = write_recording(plan, tmp_path / "recording")
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    env = airflow_home.environment()
    env.update(
        {"ELECTIONS_INBOX": str(inbox), "ELECTIONS_WAREHOUSE": str(warehouse), "PYTHONPATH": str(REPO)}
    )
    waves = ",".join(str(h * HOUR) for h in (1, 2, 6, 48))  # the evening, the night, amendments, morning
    result = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("night_runner.py")),
            str(REPO / "dags"),
            str(recording),
            str(inbox),
            waves,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("NIGHT-RESULT ")]
    assert lines, (result.stdout + result.stderr)[-4000:]
    runs = json.loads(lines[0].removeprefix("NIGHT-RESULT "))
    assert [r["state"] for r in runs] == ["success"] * 4
    assert sum(r["files"] for r in runs) == len(plan.deliveries)

    night = seat_table(warehouse)
    final = national_totals_of(plan.final_protocols, plan.list_ids)
    assert {lid: votes for lid, (votes, _) in night.items()} == {lid: final[lid] for lid in plan.list_ids}

    one_go = tmp_path / "one-go"
    ingest_paths(write_history_files(ELECTION, tmp_path / "history", by_region=False), warehouse=one_go)
    assert {lid: seats for lid, (_, seats) in night.items()} == {
        lid: seats for lid, (_, seats) in seat_table(one_go).items()
    }
    with duckdb.connect(str(WarehousePaths(warehouse).snapshot), read_only=True) as conn:
        rules = dict(conn.execute("SELECT rule, count(*) FROM proj_quarantine GROUP BY rule").fetchall())
        publications = conn.execute("SELECT count(*) FROM proj_publications").fetchall()[0][0]
    assert rules.get("conflict") == 1
    assert publications >= 3  # the table was republished as the night moved it
