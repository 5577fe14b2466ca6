"""Drop-to-publish latency under the real scheduler: `elections airflow up`, as a user starts it, with
its own Airflow home, SQLite metadata database, inbox and warehouse in a temporary folder; a simulated
night delivered into that inbox (a declaration, then files of 1,000 polling stations spaced over
time); and for each file the seconds from its arrival to the first publication that includes it.

A file arrives when it is renamed into the inbox (it is written under a hidden name first, as an
uploader must). Publications are found by polling the warehouse's publications folder through the
publication index `elections serve` uses (`PublicationIndex`): the moment a folder first appears is
when readers can have it. Which publication includes a file comes from the readers' snapshot
(`events_log`: the last log position of the file's events) and each publication's manifest (its
`based_on_position`): the first to appear whose base covers that position. Where the time went comes
from Airflow's REST API (runs, task instances, the asset events that set runs off).

Airflow is stopped and the temporary folder removed however the phase ends, Ctrl-C included.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from bench.latency_figures import (
    SeenPublication,
    breakdown,
    first_publication,
    segments,
    summary,
)
from bench.results_api_load import free_port
from pipelines.core.paths import WarehousePaths
from pipelines.orchestration.election_night_runs import (
    READY_MARKER,
    RunTiming,
    runs,
    wait_until_idle,
    with_tasks,
)
from pipelines.orchestration.local_airflow import (
    AirflowStartError,
    LocalAirflow,
    api_token,
    prepare_home,
    wait_for_dag,
)
from pipelines.serving.publication_index import PublicationIndex
from pipelines.synthetic.protocol_writer import write_atomically
from pipelines.synthetic.scale_generator import ScaleSpec, default_region_count, generate

STATIONS_PER_FILE = 1_000
LISTS = 20
STARTUP_TIMEOUT = 300.0  # `airflow up` on a loaded 2-core machine: migrate, four components, the DAG parsed
SETTLE_TIMEOUT = 240.0  # for the last file to be published and the DAG to come to rest
STOP_TIMEOUT = 60.0  # `airflow up` gives its components 20 s after SIGTERM, then kills them
POLL_SECONDS = 0.1  # how often the publications folder is looked at: the resolution of the latency
HEALTHY_LINE = "all components healthy"


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] latency: {message}", file=sys.stderr, flush=True)


def load() -> list[float]:
    """The 1, 5 and 15 minute load averages, beside every figure: the machine is shared."""
    return [round(x, 2) for x in os.getloadavg()]


@dataclass(frozen=True)
class Delivery:
    name: str
    arrived: float  # epoch seconds, just after the rename into the inbox


class PublicationWatch:
    """Polls the publications folder in a thread; records when each publication first appeared."""

    def __init__(self, warehouse: Path) -> None:
        self.index = PublicationIndex(WarehousePaths(warehouse).publications)
        self.seen: dict[str, SeenPublication] = {}
        self.loads: list[float] = []
        self.failure: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="publication-watch", daemon=True)

    def __enter__(self) -> PublicationWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def check(self) -> None:
        """Raise what stopped the watch: a night measured without it would miss every file."""
        if self.failure is not None:
            raise RuntimeError(f"the publication watch failed: {self.failure}") from self.failure

    def _run(self) -> None:
        last_load = 0.0
        try:
            while not self._stop.is_set():
                now = time.time()
                for folder in self.index.publications():
                    if folder.publication_id not in self.seen:
                        self.seen[folder.publication_id] = SeenPublication(
                            folder.publication_id, folder.based_on_position, now
                        )
                if now - last_load >= 10:
                    self.loads.append(os.getloadavg()[0])
                    last_load = now
                self._stop.wait(POLL_SECONDS)
        except Exception as exc:  # reported by check() in the measuring thread
            self.failure = exc


class AirflowUp:
    """`elections airflow up` in a child process of its own session, with the night's folders."""

    def __init__(self, root: Path) -> None:
        self.home = root / "airflow-home"
        self.inbox = root / "inbox"
        self.warehouse = root / "warehouse"
        self.output = root / "airflow-up.log"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        # Its descendants as last seen, pid -> start time: if `airflow up` itself dies, its components
        # are no longer its children, and stop() still finds them here.
        self.family: dict[int, int] = {}

    def start(self) -> LocalAirflow:
        self.inbox.mkdir(parents=True)
        env = {**os.environ, "ELECTIONS_INBOX": str(self.inbox), "ELECTIONS_WAREHOUSE": str(self.warehouse)}
        command = [str(Path(sys.executable).with_name("elections")), "airflow", "up"]
        with self.output.open("wb") as output:
            # Its own session: a Ctrl-C at the terminal reaches only the bench, which stops it once.
            self.process = subprocess.Popen(
                [*command, "--home", str(self.home), "--port", str(self.port)],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while HEALTHY_LINE not in self.output.read_text(errors="replace"):
            self.still_running()
            if time.monotonic() > deadline:
                raise AirflowStartError(f"`elections airflow up` not healthy after {STARTUP_TIMEOUT:.0f}s")
            time.sleep(0.5)
        return prepare_home(self.home, api_port=self.port)  # the home it made: its keys and password

    def still_running(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.family.update(descendants(self.process.pid))
        if self.process is not None and self.process.poll() is not None:
            tail = self.output.read_text(errors="replace")[-3000:]
            raise AirflowStartError(f"`elections airflow up` exited ({self.process.returncode}):\n{tail}")

    def stop(self) -> None:
        """SIGTERM (what `airflow up` takes as Ctrl-C), then SIGKILL; then any process it had started
        (components, executor workers, tasks) that outlived it."""
        process = self.process
        if process is None:
            return
        started = {**self.family, **descendants(process.pid)}
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                log("`airflow up` did not stop in time: killed")
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for pid, start in started.items():
            if _start_time(pid) == start:  # the same process, not a new one given its pid
                log(f"process {pid} of `airflow up` outlived it: killed")
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def _stat(pid: int | str) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (field 3, the state, comes first)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _start_time(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[19]) if fields else None  # field 22: start time in clock ticks since boot


def descendants(root: int) -> dict[int, int]:
    """Every living descendant of `root`, with its start time (to tell it from a later process that
    reuses its pid). Component processes rename themselves (setproctitle overwrites their environment
    too), so the process tree is what still names them."""
    children: dict[int, list[int]] = {}
    starts: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(entry.name)) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
            starts[int(entry.name)] = int(fields[19])
    found: dict[int, int] = {}
    pending = list(children.get(root, []))
    while pending:
        pid = pending.pop()
        if pid in starts and pid not in found:
            found[pid] = starts[pid]
            pending.extend(children.get(pid, []))
    return found


@contextmanager
def interrupts_raise() -> Iterator[None]:
    """SIGTERM ends the phase like Ctrl-C does, so that its clean-up runs."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def uninterrupted() -> Iterator[None]:
    """A second Ctrl-C must not cut the clean-up short and leave Airflow running."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def deliver(inbox: Path, name: str, data: bytes) -> Delivery:
    """As an uploader must: written under a hidden name, renamed into the inbox, then the marker."""
    write_atomically(inbox / name, data)
    arrived = time.time()
    (inbox / READY_MARKER).touch()
    return Delivery(name, arrived)


def spacings(count: int, mean: float, seed: int) -> list[float]:
    """Seconds between deliveries, uniform within +-50 % of the mean: arrivals fall anywhere in the
    watcher's poll and the minute of the cron, not in step with either."""
    rng = random.Random(seed)
    return [rng.uniform(0.5 * mean, 1.5 * mean) for _ in range(count)]


def measure_latency(files: int, spacing: float, seed: int) -> dict[str, Any]:
    """Run the night and return its figures (bench/README.md, `latency` in the report)."""
    root = Path(tempfile.mkdtemp(prefix="elections-latency-"))
    up = AirflowUp(root)
    try:
        with interrupts_raise():
            return _night(up, root, files, spacing, seed)
    finally:
        with uninterrupted():
            up.stop()
            shutil.rmtree(root, ignore_errors=True)
            log(f"Airflow stopped, {root} removed")


def _night(up: AirflowUp, root: Path, files: int, spacing: float, seed: int) -> dict[str, Any]:
    staging = root / "generated"
    stations = files * STATIONS_PER_FILE
    spec = ScaleSpec(stations, LISTS, default_region_count(stations), seed, chunk_size=STATIONS_PER_FILE)
    declaration, precincts, *protocols = generate(spec, staging)
    loads = {"before": load()}
    log(f"starting `elections airflow up` in {root} (load {loads['before']})")
    began = time.monotonic()
    airflow = up.start()
    token = api_token(airflow)
    wait_for_dag(airflow, "election_night", token, timeout=STARTUP_TIMEOUT)
    startup = time.monotonic() - began
    log(f"Airflow up and election_night parsed after {startup:.0f}s")

    def rest() -> None:
        wait_until_idle(airflow, token, up.inbox, still_running=up.still_running, timeout=SETTLE_TIMEOUT)

    # The declaration first, with the precincts file it names beside it (a sidecar the scan skips).
    rest()
    write_atomically(up.inbox / precincts.name, precincts.read_bytes())
    deliver(up.inbox, declaration.name, declaration.read_bytes())
    _wait_for(lambda: (up.inbox / "processed" / declaration.name).exists(), up, "the declaration")
    rest()
    loads["night_start"] = load()
    log(f"declared; delivering {files} files of {STATIONS_PER_FILE:,} stations, ~{spacing:g}s apart")

    deliveries: list[Delivery] = []
    with PublicationWatch(up.warehouse) as watch:
        due = time.monotonic()
        for path, gap in zip(protocols, [0.0, *spacings(files - 1, spacing, seed)], strict=True):
            data = path.read_bytes()
            due += gap
            time.sleep(max(0.0, due - time.monotonic()))
            up.still_running()
            watch.check()
            deliveries.append(deliver(up.inbox, path.name, data))
        processed = up.inbox / "processed"
        _wait_for(lambda: all((processed / d.name).exists() for d in deliveries), up, "the night's files")
        rest()
        time.sleep(3 * POLL_SECONDS)  # the watch has seen every folder renamed before the run ended
        watch.check()
    loads["night_end"] = load()
    seen = list(watch.seen.values())
    timings = [with_tasks(airflow, token, run) for run in runs(airflow, token)]
    per_file = _per_file(deliveries, _last_positions(up.warehouse, deliveries), seen, timings)
    latencies = [f["latency_seconds"] for f in per_file if f["latency_seconds"] is not None]
    figures = summary(latencies, missing=len(per_file) - len(latencies))
    figures.update(
        {
            "stations_per_file": STATIONS_PER_FILE,
            "lists": LISTS,
            "mean_spacing_seconds": spacing,
            "startup_seconds": round(startup, 1),
            "load": {**loads, "night_1min_samples": [round(x, 2) for x in watch.loads]},
            "publication_found_by": "publications folder polled every 0.1 s (PublicationIndex); "
            "file position from the snapshot's events_log",
            "breakdown": breakdown([f["segments"] for f in per_file if f["segments"]]),
            "runs": _run_counts(timings),
            "per_file": per_file,
        }
    )
    return figures


def _wait_for(condition: Callable[[], bool], up: AirflowUp, what: str) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while not condition():
        up.still_running()
        if time.monotonic() > deadline:
            raise AirflowStartError(f"{what} not processed within {SETTLE_TIMEOUT:.0f}s")
        time.sleep(0.2)


def _last_positions(warehouse: Path, deliveries: list[Delivery]) -> dict[str, int]:
    """The log position of each file's last event, from the readers' snapshot (analysts' events_log)."""
    names = [d.name for d in deliveries]
    with duckdb.connect(str(WarehousePaths(warehouse).snapshot), read_only=True) as conn:
        rows = conn.execute(
            "SELECT file_name, max(position) FROM events_log WHERE list_contains(?, file_name) GROUP BY 1",
            [names],
        ).fetchall()
    return {str(name): int(position) for name, position in rows}


def _epoch(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _producing_run(seen_at: float, timings: list[RunTiming]) -> RunTiming | None:
    """The run whose ingest task last started before the folder appeared (the writer pool has one
    slot, so ingest tasks never overlap)."""
    started = [
        (start, run)
        for run in timings
        if (task := run.tasks.get("ingest_and_publish")) and (start := _epoch(task.started_at)) is not None
        if start <= seen_at
    ]
    return max(started, key=lambda pair: pair[0])[1] if started else None


def _milestones(run: RunTiming) -> dict[str, float | None]:
    scan, ingest = run.tasks.get("scan_inbox"), run.tasks.get("ingest_and_publish")
    return {
        "watcher": _epoch(run.asset_event_at),
        "run created": _epoch(run.queued_at),
        "run started": _epoch(run.started_at),
        "scan launched": _epoch(scan.started_at) if scan else None,
        "scan ran": _epoch(scan.ended_at) if scan else None,
        "ingest launched": _epoch(ingest.started_at) if ingest else None,
    }


def _per_file(
    deliveries: list[Delivery],
    positions: dict[str, int],
    seen: list[SeenPublication],
    timings: list[RunTiming],
) -> list[dict[str, Any]]:
    out = []
    for delivery in deliveries:
        entry: dict[str, Any] = {
            "file": delivery.name,
            "arrived_at": datetime.fromtimestamp(delivery.arrived, UTC).isoformat(timespec="milliseconds"),
            "last_position": positions.get(delivery.name),
            "latency_seconds": None,
            "segments": None,
        }
        position = positions.get(delivery.name)
        publication = None if position is None else first_publication(position, seen)
        if publication is not None:
            latency = publication.seen_at - delivery.arrived
            run = _producing_run(publication.seen_at, timings)
            entry.update(
                {
                    "latency_seconds": round(latency, 3),
                    "publication_id": publication.publication_id,
                    "run_id": run.run_id if run else None,
                    "run_type": run.run_type if run else None,
                }
            )
            if run is not None:
                split = segments(delivery.arrived, publication.seen_at, _milestones(run))
                entry["segments"] = {k: round(v, 3) for k, v in split.items()}
        out.append(entry)
    return out


def _run_counts(timings: list[RunTiming]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for run in timings:
        ingested = "ingest_and_publish" in run.tasks and run.tasks["ingest_and_publish"].state == "success"
        key = f"{run.run_type}{'' if ingested else ' (nothing to ingest)'}"
        counts[key] = counts.get(key, 0) + 1
    return counts
