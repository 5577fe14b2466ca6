"""Every DAG file imports cleanly, and parsing touches no database, data file or GX."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from pipelines.orchestration.local_airflow import LocalAirflow

REPO = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent(
    """
    import json, os, sys
    watched = (os.environ["ELECTIONS_INBOX"], os.environ["ELECTIONS_WAREHOUSE"])
    touched = []
    def audit(event, args):
        if event == "open" and isinstance(args[0], str) and args[0].startswith(watched):
            touched.append(args[0])
    sys.addaudithook(audit)
    from airflow.dag_processing.dagbag import DagBag
    bag = DagBag(dag_folder=sys.argv[1])
    print("PROBE " + json.dumps({
        "errors": {k: str(v) for k, v in bag.import_errors.items()},
        "dags": {d: {"tags": sorted(bag.dags[d].tags), "doc": bool(bag.dags[d].doc_md),
                     "owners": sorted({t.owner for t in bag.dags[d].tasks})} for d in bag.dag_ids},
        "touched": touched,
        "modules": sorted(m for m in ("duckdb", "great_expectations", "pandas") if m in sys.modules),
    }))
    """
)


def test_dags_import_without_errors_and_touch_nothing_at_parse_time(
    airflow_home: LocalAirflow, tmp_path: Path
) -> None:
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    env = airflow_home.environment()
    env.update(
        {"ELECTIONS_INBOX": str(inbox), "ELECTIONS_WAREHOUSE": str(warehouse), "PYTHONPATH": str(REPO)}
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(REPO / "dags")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("PROBE ")]
    assert lines, result.stdout[-2000:] + result.stderr[-2000:]
    probe = json.loads(lines[0].removeprefix("PROBE "))
    assert probe["errors"] == {}
    assert {"election_night", "forensic_screening"} <= set(probe["dags"])
    for dag_id, info in probe["dags"].items():
        assert info["tags"] and info["doc"], f"{dag_id} needs tags and doc_md"
        assert "airflow" not in info["owners"], f"{dag_id} needs an owner"
    assert probe["touched"] == []
    assert probe["modules"] == [], "DAG parsing must not import the data stack"
    assert not inbox.exists() and not warehouse.exists()
