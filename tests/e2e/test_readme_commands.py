"""Every command the README shows works as written, in the order shown, on a fresh clone.

The commands are read from the clone's README.md (its ```sh blocks), not copied here, and run one by one
in one bash from the clone's root, as a reader pastes them into a terminal. Each must exit 0, or with the
status its comment states (`# exit 5: ...`). A command whose comment says "Ctrl-C stops it" is a server:
it is started beside the session, the test waits until it answers over HTTP, the lines after it run
against it (the curl lines against `elections serve`), and at the end it gets SIGINT, as from Ctrl-C,
and must exit 0. The one change made to the text: the ports 8000 and 8080 become free ports, so that the
test runs beside whatever listens there.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.core.paths import REPO_ROOT
from tests.e2e.fresh_clone import fresh_clone
from tests.e2e.readme_commands import ReadmeCommand, readme_commands, split_comment
from tests.e2e.shell_session import CommandUnfinished, ShellSession
from tests.integration.postgres_server import free_loopback_port

README_PORTS = ("8000", "8080")
PORT_IN_TEXT = re.compile(r"(?<=--port )(\d+)\b|(?<=127\.0\.0\.1:)(\d+)\b")
# `make test` is this suite: running it from inside itself would recurse. `make demo` runs (about half a
# minute): it is the README's first command, and nothing else runs `elections demo` itself.
NOT_RUN = {"make test"}
COMMAND_TIMEOUT = 300.0  # seconds; `make demo` takes ~35 s on a quiet machine
SERVER_START_TIMEOUT = 240.0
SERVER_STOP_TIMEOUT = 90.0  # `airflow up` gives each component 20 s to stop


def newcomer_environment() -> dict[str, str]:
    """This process's environment without what would point the commands elsewhere than the clone."""
    dropped = ("ELECTIONS_", "AIRFLOW", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "MAKE", "MFLAGS")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    checkout_bin = str(REPO_ROOT / ".venv" / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != checkout_bin)
    return env


def with_ports(text: str, ports: Mapping[str, int]) -> str:
    def swap(match: re.Match[str]) -> str:
        return str(ports.get(match.group(0), match.group(0)))

    return PORT_IN_TEXT.sub(swap, text)


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""
    except (urllib.error.URLError, OSError):
        return 0, b""


def airflow_answers(port: int) -> bool:
    """Every component reports healthy through the API server's health endpoint."""
    status, body = _get(f"http://127.0.0.1:{port}/api/v2/monitor/health")
    if status != 200:
        return False
    health = json.loads(body)
    parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
    return all((health.get(part) or {}).get("status") == "healthy" for part in parts)


def results_api_answers(port: int) -> bool:
    return _get(f"http://127.0.0.1:{port}/openapi.json")[0] == 200


# How to tell that a server the README starts is up, by its `elections` subcommand.
PROBES: Mapping[str, Callable[[int], bool]] = {"airflow up": airflow_answers, "serve": results_api_answers}
SERVER_COMMAND = re.compile(r"\belections (airflow up|serve)\b")


@dataclass
class Server:
    command: ReadmeCommand
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def start_server(
    command: ReadmeCommand, text: str, clone: Path, env: Mapping[str, str], logs: Path
) -> Server:
    kind = SERVER_COMMAND.search(text)
    port = re.search(r"--port (\d+)", text)
    if kind is None or port is None:
        pytest.fail(f"{command.where}: no way to tell when it is up (known: {list(PROBES)})")
    log = logs / f"server-line-{command.line}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", "-c", text], cwd=clone, env=dict(env), stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    server = Server(command, process, log)
    probe, deadline = PROBES[kind.group(1)], time.monotonic() + SERVER_START_TIMEOUT
    while not probe(int(port.group(1))):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_server(server)
            pytest.fail(f"{command.where} never answered\n{server.output()}")
        time.sleep(1)
    return server


def stop_server(server: Server) -> str | None:
    """Ctrl-C (SIGINT to its process group); a problem if it does not then exit 0."""
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGINT)
    try:
        status = server.process.wait(timeout=SERVER_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()
        return f"{server.command.where} did not stop on Ctrl-C\n{server.output()}"
    if status != 0:
        return f"{server.command.where} exited {status} on Ctrl-C\n{server.output()}"
    return None


def test_comments_state_exit_codes_and_continue_commands() -> None:
    markdown = "\n".join(
        [
            "```sh",
            "cmd one   # says why; exit 5: when",
            "          # and more",
            "",
            "# a comment of the block",
            "cmd 'two # not a comment' \\",
            "    --flag   # Ctrl-C stops it",
            "```",
            "```",
            "not shell",
            "```",
        ]
    )
    one, two = readme_commands(markdown)
    assert (one.line, one.code, one.expected_exit, one.comment) == (
        2, "cmd one", 5, "says why; exit 5: when and more",
    )  # fmt: skip
    assert (two.line, two.code, two.expected_exit, two.long_running) == (
        6, "cmd 'two # not a comment' --flag", 0, True,
    )  # fmt: skip


def test_ci_runs_the_readme_test_command() -> None:
    """CI (.ci/run) runs what the README tells a newcomer to test with, and nothing else."""
    readme = readme_commands((REPO_ROOT / "README.md").read_text())
    test_commands = [c.code for c in readme if c.code.startswith("make") and "test" in c.code]
    lines = (REPO_ROOT / ".ci" / "run").read_text().splitlines()
    ci = [code for line in lines if (code := split_comment(line)[0].strip())]
    assert test_commands == ["make test"]
    assert [c for c in ci if not c.startswith(("set ", "cd "))] == test_commands


@pytest.mark.slow
@pytest.mark.airflow
@pytest.mark.timeout(1200)
def test_every_readme_command_works_as_written_in_order(tmp_path: Path) -> None:
    clone = fresh_clone(REPO_ROOT, tmp_path / "clone")
    commands = readme_commands((clone / "README.md").read_text())
    assert len(commands) > 10, "the README's shell blocks were not found"
    ports = {port: free_loopback_port() for port in README_PORTS}
    env = newcomer_environment()
    servers: list[Server] = []
    timings: list[str] = []
    try:
        with ShellSession(clone, env) as shell:
            for command in commands:
                if command.code in NOT_RUN:
                    continue
                text = with_ports(command.text, ports)
                started = time.monotonic()
                if command.long_running:
                    servers.append(start_server(command, text, clone, env, tmp_path))
                else:
                    try:
                        status, output = shell.run(text, timeout=COMMAND_TIMEOUT)
                    except CommandUnfinished as unfinished:
                        pytest.fail(f"{command.where} did not finish\n{unfinished}")
                    if status != command.expected_exit:
                        pytest.fail(
                            f"{command.where} exited {status}, the README says {command.expected_exit}"
                            f"\n{output[-3000:]}"
                        )
                timings.append(f"{time.monotonic() - started:6.1f} s  README.md:{command.line}")
    finally:
        problems = []
        for server in reversed(servers):
            started = time.monotonic()
            if problem := stop_server(server):
                problems.append(problem)
            timings.append(f"{time.monotonic() - started:6.1f} s  README.md:{server.command.line} stopping")
        print("\n".join(timings))
    assert not problems, "\n".join(problems)
