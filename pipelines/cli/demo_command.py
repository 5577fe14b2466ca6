"""`elections demo`: a sample election through the real election-night DAG, then its seat table and
the forensic report the forensic-screening DAG writes of it."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pipelines.core.errors import EXIT_FAILURE, EXIT_OK
from pipelines.core.paths import REPO_ROOT

DEMO_ROOT = REPO_ROOT / "var" / "demo"


def register(subparsers: Any) -> None:
    demo = subparsers.add_parser(
        "demo", help="run a sample election through the election-night DAG and print its seat table"
    )
    demo.add_argument(
        "--precincts", type=int, default=340, help="polling stations in the sample (default 340)"
    )
    demo.set_defaults(func=run_demo)


def _step(text: str) -> None:
    print(f"==> {text}", flush=True)


def _test_dag(environment: dict[str, str], dag_id: str, log_file: Path) -> bool:
    """`airflow dags test DAG_ID`, its output into `log_file`; on failure, says so with the log's tail."""
    with log_file.open("w") as log:
        result = subprocess.run(
            [sys.executable, "-m", "airflow", "dags", "test", dag_id],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if result.returncode != 0:
        tail = log_file.read_text(errors="replace")[-3000:]
        print(f"error: the {dag_id} DAG run failed; its log is {log_file}\n{tail}", file=sys.stderr)
    return result.returncode == 0


def run_demo(args: argparse.Namespace) -> int:
    from pipelines.cli.output import render
    from pipelines.cli.store_commands import SEAT_COLUMNS
    from pipelines.core.paths import WarehousePaths
    from pipelines.orchestration.local_airflow import migrate_database, prepare_home
    from pipelines.store.event_store import open_read_only
    from pipelines.store.queries import query
    from pipelines.synthetic.sample_election import SAMPLE_ELECTION_ID, write_sample_election

    shutil.rmtree(DEMO_ROOT, ignore_errors=True)
    inbox, warehouse = DEMO_ROOT / "inbox", WarehousePaths(DEMO_ROOT / "warehouse")
    files = write_sample_election(inbox, precincts=args.precincts)
    _step(f"wrote a sample election ({args.precincts} polling stations, {len(files)} files) to {inbox}")

    airflow = prepare_home(
        settings={"ELECTIONS_INBOX": str(inbox), "ELECTIONS_WAREHOUSE": str(warehouse.root)}
    )
    _step(f"preparing the local Airflow home {airflow.home} (SQLite metadata database)")
    started = time.monotonic()
    migrate_database(airflow)
    _step(f"metadata database ready in {time.monotonic() - started:.0f}s; running DAG election_night")
    log_file = DEMO_ROOT / "airflow-dags-test.log"
    started = time.monotonic()
    if not _test_dag(airflow.environment(), "election_night", log_file):
        return EXIT_FAILURE
    _step(f"DAG run finished in {time.monotonic() - started:.0f}s (log: {log_file})")
    # The scheduler would start forensic_screening on election_night's publication event; `dags test`
    # runs one DAG only, so the demo runs it next, as the scheduler would.
    _step("running DAG forensic_screening (the forensic report of the publication: screening, not proof)")
    screen_log = DEMO_ROOT / "airflow-dags-test-forensic-screening.log"
    started = time.monotonic()
    if not _test_dag(airflow.environment(), "forensic_screening", screen_log):
        return EXIT_FAILURE
    _step(f"DAG run finished in {time.monotonic() - started:.0f}s (log: {screen_log})")

    with open_read_only(warehouse.snapshot) as conn:
        rows = conn.execute(query("seat_table"), {"election": SAMPLE_ELECTION_ID}).fetchall()
        columns = [d[0] for d in conn.description or []]
        seats = [dict(zip(columns, r, strict=True)) for r in rows]
        quarantined = conn.execute("SELECT count(*) FROM proj_quarantine").fetchall()[0][0]
        counted = conn.execute(
            "SELECT count(*) FROM proj_precinct_results WHERE election_id = ?", [SAMPLE_ELECTION_ID]
        ).fetchall()[0][0]
    if not seats:
        print("error: the DAG ran but published no seat table", file=sys.stderr)
        return EXIT_FAILURE
    print()
    print(
        f"Provisional seat table: {SAMPLE_ELECTION_ID} ({counted} polling stations counted, "
        f"{quarantined} rows quarantined)"
    )
    print(render(seats, SEAT_COLUMNS, "table"))
    print(f"\n{sum(int(s['seats']) for s in seats)} list seats allocated")
    reports = sorted(p for p in warehouse.forensics.glob("*/forensics.html"))
    if not reports:
        print("error: the screening DAG ran but wrote no forensic report", file=sys.stderr)
        return EXIT_FAILURE
    print(f"\nForensic report (screening, not proof): {reports[-1]}")
    print(f"\nQuery it:  .venv/bin/elections seats --warehouse {warehouse.root}")
    print(f'           .venv/bin/elections sql --warehouse {warehouse.root} "SELECT * FROM proj_seat_table"')
    return EXIT_OK
