"""A throw-away PostgreSQL server for tests that need Airflow's real metadata database.

`running_postgres()` runs `initdb` in a fresh temporary directory, starts the server on a free
loopback port (its unix socket stays inside that directory), creates a database and yields its
SQLAlchemy URL; on exit, even after a failure, it stops the server and deletes the directory.
PostgreSQL refuses to run as root, so under root the server runs as the unprivileged `nobody`.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest

PREFERRED_MAJOR = 15
UNPRIVILEGED_USER = "nobody"
SUPERUSER = "postgres"
START_ATTEMPTS = 3  # a free port found by bind(0) can be taken by someone else before the server binds it


class PostgresUnavailable(RuntimeError):
    """The machine has no usable PostgreSQL server binaries, or the server would not start."""


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    database: str
    data_dir: Path
    log_file: Path

    @property
    def sqlalchemy_url(self) -> str:
        return f"postgresql+psycopg2://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"

    @property
    def dsn(self) -> str:
        parts = {"host": self.host, "port": self.port, "user": self.user, "password": self.password}
        return " ".join(f"{key}={value}" for key, value in {**parts, "dbname": self.database}.items())


def find_postgres_bin_dir() -> Path:
    """The directory holding `initdb` and `pg_ctl`: $ELECTIONS_PG_BIN, PATH, or Debian's versioned dirs."""
    override = os.environ.get("ELECTIONS_PG_BIN")
    candidates: list[Path] = [Path(override)] if override else []
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)

    def major(path: Path) -> int:
        match = re.fullmatch(r"\d+", path.parent.name)
        return int(match.group()) if match else -1

    # Debian keeps each major version in /usr/lib/postgresql/<major>/bin, off PATH; prefer the one
    # production uses, then the newest.
    versioned = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=major, reverse=True)
    versioned.sort(key=lambda path: major(path) != PREFERRED_MAJOR)
    candidates.extend(versioned)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl) found; set ELECTIONS_PG_BIN to their directory"
    )


def free_loopback_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", UNPRIVILEGED_USER, "--", *command]


def _hand_to_server_user(path: Path) -> None:
    if os.geteuid() == 0:
        account = pwd.getpwnam(UNPRIVILEGED_USER)
        os.chown(path, account.pw_uid, account.pw_gid)


def _run(command: list[str], what: str, log_file: Path | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    if result.returncode != 0:
        log = log_file.read_text(errors="replace")[-2000:] if log_file and log_file.exists() else ""
        raise PostgresUnavailable(f"{what} failed ({result.returncode}): {result.stderr.strip()}\n{log}")


def _kill_leftover_postmaster(data_dir: Path) -> None:
    """Last resort when `pg_ctl stop` failed: the first line of postmaster.pid is the server's pid."""
    pid_file = data_dir / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)


def _start(pg_bin: Path, data_dir: Path, socket_dir: Path, log_file: Path) -> int:
    last_error: PostgresUnavailable | None = None
    for _ in range(START_ATTEMPTS):
        port = free_loopback_port()
        options = f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1 -F"
        command = [str(pg_bin / "pg_ctl"), "-D", str(data_dir), "-l", str(log_file), "-o", options]
        try:
            _run(_as_server_user([*command, "-w", "-t", "30", "start"]), "pg_ctl start", log_file)
            return port
        except PostgresUnavailable as exc:
            last_error = exc
    assert last_error is not None
    raise last_error


@contextmanager
def running_postgres(database: str = "airflow") -> Iterator[PostgresServer]:
    """Start a private PostgreSQL server, create `database`, yield it; always stop and delete it."""
    pg_bin = find_postgres_bin_dir()
    # Not pytest's tmp_path: its parents are private to root, and the server may run as `nobody`.
    root = Path(tempfile.mkdtemp(prefix="elections-pg-"))
    data_dir, log_file = root / "data", root / "server.log"
    password = secrets.token_urlsafe(24)
    initialised = False
    try:
        _hand_to_server_user(root)
        password_file = root / "password"
        password_file.write_text(password + "\n")
        _hand_to_server_user(password_file)
        _run(
            _as_server_user(
                [
                    str(pg_bin / "initdb"),
                    "-D",
                    str(data_dir),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={password_file}",
                    "--auth=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ]
            ),
            "initdb",
        )
        password_file.unlink()
        initialised = True
        port = _start(pg_bin, data_dir, root, log_file)
        server = PostgresServer("127.0.0.1", port, SUPERUSER, password, database, data_dir, log_file)
        admin = psycopg2.connect(
            host=server.host, port=port, user=SUPERUSER, password=password, dbname="postgres"
        )
        try:
            admin.autocommit = True  # CREATE DATABASE cannot run inside a transaction
            with admin.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{database}"')
        finally:
            admin.close()
        yield server
    finally:
        if initialised:
            stop = [str(pg_bin / "pg_ctl"), "-D", str(data_dir), "-m", "fast", "-w", "-t", "20", "stop"]
            try:
                _run(_as_server_user(stop), "pg_ctl stop")
            except (PostgresUnavailable, subprocess.TimeoutExpired):
                _kill_leftover_postmaster(data_dir)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[PostgresServer]:
    """One private PostgreSQL server per test module."""
    with running_postgres() as server:
        yield server
