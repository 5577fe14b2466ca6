"""A complete local Airflow (scheduler, dag-processor, triggerer, API server) run as child processes.

Configured only through environment variables (no airflow.cfg edits), so the same home works for
`elections airflow up` (embedded SQLite metadata database by default) and for integration tests
against a private PostgreSQL server. Nothing here imports Airflow: the calling process keeps its own
configuration, and each component reads the environment built by `LocalAirflow.environment()`.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import sqlalchemy

from pipelines.core.errors import PipelineError
from pipelines.core.paths import DAGS_DIR, LOCAL_AIRFLOW_HOME

DEFAULT_HOME = LOCAL_AIRFLOW_HOME
DEFAULT_DAGS_FOLDER = DAGS_DIR
WRITER_POOL = "warehouse_writer"
WRITER_POOL_DESCRIPTION = "single DuckDB writer"
ADMIN_USER = "admin"
COMPONENTS: tuple[str, ...] = ("scheduler", "dag-processor", "triggerer", "api-server")
# The component that registers a row in Airflow's `job` table once it is up and heartbeating.
JOB_TYPES: Mapping[str, str] = {
    "scheduler": "SchedulerJob",
    "dag-processor": "DagProcessorJob",
    "triggerer": "TriggererJob",
}
SECRETS_FILE = "elections-local-secrets.json"
PASSWORDS_FILE = "simple_auth_manager_passwords.json.generated"
STOP_GRACE_SECONDS = 20.0
# Imported once by the scheduler's forkserver, inherited by every worker and task it forks.
TASK_PRELOAD = "airflow,airflow.executors.local_executor,pipelines.orchestration.task_imports"


class AirflowStartError(PipelineError):
    """A local Airflow command or component failed; the message carries the tail of its log."""


@dataclass(frozen=True)
class LocalAirflow:
    """One Airflow home: where it lives, which DAGs it serves, its metadata database and API port."""

    home: Path
    dags_folder: Path
    database_url: str
    api_port: int
    settings: Mapping[str, str] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def log_dir(self) -> Path:
        return self.home / "process-logs"

    @property
    def admin_password(self) -> str:
        passwords: dict[str, str] = json.loads((self.home / PASSWORDS_FILE).read_text())
        return passwords[ADMIN_USER]

    def environment(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment every Airflow process of this home runs with."""
        keys: dict[str, str] = json.loads((self.home / SECRETS_FILE).read_text())
        env = dict(os.environ if base is None else base)
        # A caller's own AIRFLOW__* settings must not leak into this home unannounced.
        env = {k: v for k, v in env.items() if not k.startswith("AIRFLOW__") and k != "AIRFLOW_CONFIG"}
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.database_url,
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                "AIRFLOW__CORE__FERNET_KEY": keys["fernet_key"],
                "AIRFLOW__CORE__AUTH_MANAGER": (
                    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
                ),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / PASSWORDS_FILE),
                # Scheduler-issued task tokens are checked by the API server: one secret for both.
                "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt_secret"],
                "AIRFLOW__API__SECRET_KEY": keys["api_secret_key"],
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.api_port),
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API__BASE_URL": self.api_url,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.home / "logs"),
                # New DAG files show up within seconds instead of the default five minutes.
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
                # Task processes fork from LocalExecutor workers; started from a forkserver that
                # preloads the task code, GX included, they skip ~5 s of imports per task (task_imports.py).
                "AIRFLOW__SCHEDULER__MP_START_METHOD": "forkserver",
                "AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD": TASK_PRELOAD,
            }
        )
        if self.database_url.startswith("postgresql") and importlib.util.find_spec("asyncpg") is None:
            # Airflow derives a postgresql+asyncpg URL for its async engine and fails at import when
            # asyncpg is missing (it is not in uv.lock). An empty URL disables only the async engine,
            # which the scheduler, dag-processor, triggerer and task execution used here do not need.
            env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] = ""
        env.update(self.settings)
        return env


def _write_once(path: Path, content: str) -> None:
    """Create a private file unless it exists, so a home keeps its keys across restarts."""
    if path.exists():
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)


def prepare_home(
    home: Path = DEFAULT_HOME,
    *,
    dags_folder: Path = DEFAULT_DAGS_FOLDER,
    database_url: str | None = None,
    api_port: int = 8080,
    settings: Mapping[str, str] | None = None,
) -> LocalAirflow:
    """Create the home's folders, keys and admin password; the default database is SQLite inside it."""
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    (home / "logs").mkdir(exist_ok=True)
    (home / "process-logs").mkdir(exist_ok=True)
    keys = {
        "fernet_key": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "jwt_secret": secrets.token_urlsafe(48),
        "api_secret_key": secrets.token_urlsafe(48),
    }
    _write_once(home / SECRETS_FILE, json.dumps(keys) + "\n")
    _write_once(home / PASSWORDS_FILE, json.dumps({ADMIN_USER: secrets.token_urlsafe(12)}) + "\n")
    return LocalAirflow(
        home=home,
        dags_folder=dags_folder.resolve(),
        database_url=database_url or f"sqlite:///{home / 'airflow.db'}",
        api_port=api_port,
        settings=dict(settings or {}),
    )


def _tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no log)"


def run_airflow_cli(
    airflow: LocalAirflow, *args: str, timeout: float = 300.0
) -> subprocess.CompletedProcess[str]:
    """Run `airflow <args>` for this home; a failure raises with the command's output."""
    return _run_python(airflow, ["-m", "airflow", *args], f"airflow {' '.join(args)}", timeout)


def _run_python(
    airflow: LocalAirflow, args: list[str], what: str, timeout: float
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, *args]
    try:
        result = subprocess.run(
            command,
            env=airflow.environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise AirflowStartError(f"`{what}` did not finish within {timeout:.0f}s") from exc
    if result.returncode != 0:
        output = (result.stdout + result.stderr)[-3000:]
        raise AirflowStartError(f"`{what}` failed ({result.returncode}):\n{output}")
    return result


# `airflow db migrate` and `airflow pools set` in one interpreter: importing Airflow costs 5-10 s.
_MIGRATE_AND_CREATE_POOL = f"""
from airflow.cli.cli_parser import get_parser
args = get_parser().parse_args(["db", "migrate"])
args.func(args)
from airflow.models.pool import Pool
Pool.create_or_update_pool({WRITER_POOL!r}, 1, {WRITER_POOL_DESCRIPTION!r}, include_deferred=False)
"""


def migrate_database(airflow: LocalAirflow, timeout: float = 300.0) -> None:
    """Bring the metadata database to this Airflow's schema and create the single-writer pool."""
    _run_python(airflow, ["-c", _MIGRATE_AND_CREATE_POOL], "airflow db migrate + pool", timeout)


def create_writer_pool(airflow: LocalAirflow) -> None:
    run_airflow_cli(airflow, "pools", "set", WRITER_POOL, "1", WRITER_POOL_DESCRIPTION)


class AirflowProcesses:
    """Airflow components running as child processes, each in its own process group, logging to files."""

    def __init__(self, airflow: LocalAirflow, components: Sequence[str] = COMPONENTS) -> None:
        unknown = set(components) - set(COMPONENTS)
        if unknown:
            raise ValueError(f"unknown Airflow components: {sorted(unknown)}")
        self.airflow = airflow
        self.components = tuple(components)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: dict[str, IO[bytes]] = {}
        self._job_baseline: dict[str, int] = {}

    def log_file(self, component: str) -> Path:
        return self.airflow.log_dir / f"{component}.log"

    def start(self) -> None:
        self._job_baseline = self._latest_job_ids()
        env = self.airflow.environment()
        for component in self.components:
            log = open(self.log_file(component), "ab")  # noqa: SIM115 - closed in stop()
            self._logs[component] = log
            self.processes[component] = subprocess.Popen(
                [sys.executable, "-m", "airflow", component],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # own process group: stop() reaches the workers they fork
            )

    def wait_until_healthy(self, timeout: float = 120.0) -> float:
        """Block until every component is up; returns the seconds waited."""
        started = time.monotonic()
        pending = set(self.components)
        while pending:
            self.raise_if_exited()
            pending -= self._healthy(pending)
            if not pending:
                break
            if time.monotonic() - started > timeout:
                names = ", ".join(sorted(pending))
                tails = "\n".join(f"--- {c}:\n{_tail(self.log_file(c), 1500)}" for c in sorted(pending))
                raise AirflowStartError(
                    f"Airflow components not healthy after {timeout:.0f}s: {names}\n{tails}"
                )
            time.sleep(0.5)
        return time.monotonic() - started

    def raise_if_exited(self) -> None:
        for component, process in self.processes.items():
            code = process.poll()
            if code is not None:
                raise AirflowStartError(
                    f"Airflow {component} exited with code {code}; log {self.log_file(component)}:\n"
                    + _tail(self.log_file(component))
                )

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """SIGTERM every component, then SIGKILL its process group after at most `grace` seconds."""
        # Only the component itself: it shuts its own workers down, and a scheduler whose LocalExecutor
        # workers got the signal too waits for them forever.
        for process in self.processes.values():
            with suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes.values():
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            # Children the component forked (task runners, API workers) may outlive it.
            _signal_group(process, signal.SIGKILL)
            process.wait()
        for log in self._logs.values():
            log.close()
        self.processes.clear()
        self._logs.clear()

    def _engine(self) -> sqlalchemy.Engine:
        return sqlalchemy.create_engine(self.airflow.database_url, poolclass=sqlalchemy.pool.NullPool)

    def _latest_job_ids(self) -> dict[str, int]:
        engine = self._engine()
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    sqlalchemy.text("SELECT job_type, MAX(id) FROM job GROUP BY job_type")
                ).all()
        finally:
            engine.dispose()
        return {str(job_type): int(latest) for job_type, latest in rows}

    def _healthy(self, pending: set[str]) -> set[str]:
        healthy = set()
        job_components = {JOB_TYPES[c]: c for c in pending if c in JOB_TYPES}
        if job_components:
            engine = self._engine()
            try:
                with engine.connect() as connection:
                    rows = connection.execute(
                        sqlalchemy.text("SELECT job_type, id FROM job WHERE state = 'running'")
                    ).all()
            finally:
                engine.dispose()
            for job_type, job_id in rows:
                # Only a job newer than start() counts: a killed earlier run can leave a 'running' row.
                if job_type in job_components and job_id > self._job_baseline.get(job_type, 0):
                    healthy.add(job_components[job_type])
        if "api-server" in pending and _answers(f"{self.airflow.api_url}/api/v2/version"):
            healthy.add("api-server")
        return healthy


def _signal_group(process: subprocess.Popen[bytes], signum: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _api_request(
    airflow: LocalAirflow, method: str, path: str, body: object = None, token: str | None = None
) -> tuple[int, dict[str, object]]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{airflow.api_url}{path}", data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return int(exc.code), {"detail": exc.read().decode(errors="replace")}
    except (urllib.error.URLError, OSError) as exc:
        # A busy machine makes the single API worker slow: status 0 lets the wait loops retry.
        return 0, {"detail": f"no answer from {airflow.api_url}: {exc}"}


def api_get(airflow: LocalAirflow, path: str, token: str) -> dict[str, Any]:
    """GET `path` (e.g. /api/v2/dags/...) of the API server as the admin; any other answer than 200 raises."""
    status, payload = _api_request(airflow, "GET", path, token=token)
    if status != 200:
        raise AirflowStartError(f"GET {path} failed ({status}): {payload}")
    return payload


def api_token(airflow: LocalAirflow) -> str:
    """A bearer token for the admin user, from the SimpleAuthManager login endpoint."""
    credentials = {"username": ADMIN_USER, "password": airflow.admin_password}
    status, payload = _api_request(airflow, "POST", "/auth/token", credentials)
    if status not in (200, 201):
        raise AirflowStartError(f"Airflow API login failed ({status}): {payload}")
    return str(payload["access_token"])


def wait_for_dag(airflow: LocalAirflow, dag_id: str, token: str, timeout: float = 60.0) -> None:
    """Block until the dag-processor has parsed `dag_id` and the API serves it."""
    deadline = time.monotonic() + timeout
    while True:
        status, payload = _api_request(airflow, "GET", f"/api/v2/dags/{dag_id}", token=token)
        if status == 200:
            return
        if time.monotonic() > deadline:
            raise AirflowStartError(f"DAG {dag_id} not parsed after {timeout:.0f}s ({status}): {payload}")
        time.sleep(0.5)


def trigger_dag_run(
    airflow: LocalAirflow, dag_id: str, token: str, conf: Mapping[str, object] | None = None
) -> str:
    """Start a manual run of `dag_id` through the REST API; returns its run id."""
    body = {"logical_date": None, "conf": dict(conf or {})}
    status, payload = _api_request(airflow, "POST", f"/api/v2/dags/{dag_id}/dagRuns", body, token)
    if status not in (200, 201):
        raise AirflowStartError(f"triggering {dag_id} failed ({status}): {payload}")
    return str(payload["dag_run_id"])


def wait_for_dag_run(
    airflow: LocalAirflow, dag_id: str, run_id: str, token: str, timeout: float = 120.0
) -> str:
    """Block until the run finishes; returns its final state ('success' or 'failed')."""
    deadline = time.monotonic() + timeout
    path = f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}"
    while True:
        status, payload = _api_request(airflow, "GET", path, token=token)
        state = str(payload.get("state")) if status == 200 else None
        if state in ("success", "failed"):
            return state
        if time.monotonic() > deadline:
            raise AirflowStartError(f"{dag_id} run {run_id} still {state} after {timeout:.0f}s")
        time.sleep(0.5)


@contextmanager
def running_airflow(
    airflow: LocalAirflow, components: Sequence[str] = COMPONENTS, timeout: float = 120.0
) -> Iterator[AirflowProcesses]:
    """Start the components, wait until they are healthy, yield them; always stop them."""
    processes = AirflowProcesses(airflow, components)
    try:
        processes.start()
        processes.wait_until_healthy(timeout)
        yield processes
    finally:
        processes.stop()
