"""Running DAGs under real Airflow from the tests."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.orchestration.local_airflow import LocalAirflow

RUNNER = Path(__file__).with_name("dag_runner.py")
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class DagRunResult:
    state: str
    tasks: dict[str, str]
    output: str
    asset_events: list[tuple[str, dict[str, Any]]]  # (asset name, extra) of each event the run emitted


def run_dag_test(
    airflow: LocalAirflow, dag_id: str, *, inbox: Path, warehouse: Path, conf: dict[str, Any] | None = None
) -> DagRunResult:
    env = airflow.environment()
    env.update(
        {"ELECTIONS_INBOX": str(inbox), "ELECTIONS_WAREHOUSE": str(warehouse), "PYTHONPATH": str(REPO)}
    )
    result = subprocess.run(
        [sys.executable, str(RUNNER), str(REPO / "dags"), dag_id, json.dumps(conf) if conf else ""],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = result.stdout + result.stderr
    for line in result.stdout.splitlines():
        if line.startswith("DAG-RESULT "):
            data = json.loads(line.removeprefix("DAG-RESULT "))
            events = [(name, extra) for name, extra in data["asset_events"]]
            return DagRunResult(data["state"], data["tasks"], output, events)
    raise AssertionError(
        f"dag.test() of {dag_id} did not finish (exit {result.returncode}):\n{output[-4000:]}"
    )
