"""`elections airflow up`: the whole local Airflow in the foreground, to watch the DAGs in the UI."""

from __future__ import annotations

import argparse
import os
import signal
import time
from pathlib import Path
from typing import Any

from pipelines.core.errors import EXIT_OK

POLL_SECONDS = 1.0


def register(subparsers: Any) -> None:
    airflow = subparsers.add_parser("airflow", help="run the local Airflow (scheduler, UI, ...)")
    commands = airflow.add_subparsers(dest="airflow_command", metavar="ACTION", required=True)
    up = commands.add_parser(
        "up",
        help="start scheduler, dag-processor, triggerer and API server with UI; Ctrl-C stops all",
    )
    up.add_argument("--port", type=int, default=8080, help="port of the API server and UI (default 8080)")
    up.add_argument(
        "--home", type=Path, default=None, help="Airflow home folder (default .airflow in the repository)"
    )
    up.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy URL of the metadata database (default: SQLite inside the home)",
    )
    up.set_defaults(func=run_up)


def _say(text: str) -> None:
    print(f"==> {text}", flush=True)


def data_folders() -> dict[str, str]:
    """The inbox and warehouse the tasks use, absolute so they do not depend on a component's cwd."""
    from pipelines.core.paths import REPO_ROOT

    defaults = {
        "ELECTIONS_INBOX": REPO_ROOT / "var" / "inbox",
        "ELECTIONS_WAREHOUSE": REPO_ROOT / "warehouse",
    }
    return {name: str(Path(os.environ.get(name, default)).resolve()) for name, default in defaults.items()}


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_up(args: argparse.Namespace) -> int:
    # Imported here so that other commands do not pay for them.
    from pipelines.orchestration.local_airflow import (
        ADMIN_USER,
        DEFAULT_HOME,
        AirflowProcesses,
        migrate_database,
        prepare_home,
    )

    data = data_folders()
    airflow = prepare_home(
        args.home or DEFAULT_HOME, database_url=args.database_url, api_port=args.port, settings=data
    )
    _say(f"Airflow home {airflow.home}; DAGs from {airflow.dags_folder}")
    _say(f"inbox {data['ELECTIONS_INBOX']}; warehouse {data['ELECTIONS_WAREHOUSE']}")
    started = time.monotonic()
    migrate_database(airflow)
    _say(f"metadata database ready in {time.monotonic() - started:.0f}s; starting components")
    processes = AirflowProcesses(airflow)
    # A process started with SIGINT ignored or blocked (by a parent that ignores it, or a thread that
    # blocks it) would never see Ctrl-C: the command says Ctrl-C stops it, so it takes both itself.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill <pid>` stops the components like Ctrl-C does
    try:
        processes.start()
        waited = processes.wait_until_healthy(timeout=180)
        _say(f"all components healthy after {waited:.0f}s; logs in {airflow.log_dir}")
        _say(f"UI: {airflow.api_url}  user: {ADMIN_USER}  password: {airflow.admin_password}")
        _say("Ctrl-C stops everything")
        while True:
            processes.raise_if_exited()
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        _say("stopping Airflow")
    finally:
        processes.stop()
    return EXIT_OK
