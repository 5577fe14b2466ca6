"""What one benchmark child process measures: each function runs one variant and returns its timings.

Every variant runs in its own child process (see `bench.run_benchmarks`), so the parent can read that
child's peak memory alone. Times here exclude interpreter start-up and imports: they are what the work
costs once the program is loaded.
"""

from __future__ import annotations

import functools
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

Timings = dict[str, Any]


def load_pipeline() -> float:
    """Import the pipeline and GX before the clock starts: a running worker pays this once, not per batch."""
    started = time.perf_counter()
    import pipelines.ingestion.ingest  # noqa: F401
    from pipelines.gate.gx_runtime import import_gx

    import_gx()
    return time.perf_counter() - started


def protocol_files(data_dir: Path) -> list[Path]:
    return sorted(data_dir.glob("*.protocols.part-*.csv"))


def list_columns(data_dir: Path) -> list[str]:
    header = protocol_files(data_dir)[0].open(encoding="utf-8").readline().strip().split(",")
    return [c for c in header if c.startswith("list_")]


def duckdb_floor(data_dir: Path) -> Timings:
    """(a) The floor: DuckDB reads the protocol files and sums votes per region and list."""
    lists = list_columns(data_dir)
    files = [str(p) for p in protocol_files(data_dir)]
    started = time.perf_counter()
    with duckdb.connect() as conn:
        sums = ", ".join(f"sum({c})" for c in lists)
        rows = conn.execute(f"SELECT region, {sums} FROM read_csv(?) GROUP BY region", [files]).fetchall()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "total_votes": sum(sum(r[1:]) for r in rows)}


def pandas_groupby(data_dir: Path) -> Timings:
    """(b) What an analyst writes: pandas read_csv, then groupby region and sum the list columns."""
    lists = list_columns(data_dir)
    started = time.perf_counter()
    frame = pd.concat([pd.read_csv(p) for p in protocol_files(data_dir)], ignore_index=True)
    sums = frame.groupby("region")[lists].sum()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "total_votes": int(sums.to_numpy().sum())}


class PhaseClock:
    """Wall time spent inside chosen functions, found by wrapping them where ingest_paths looks them up."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._undo: list[Callable[[], None]] = []

    def wrap(self, owner: Any, attribute: str, label: str) -> None:
        original = getattr(owner, attribute, None)
        if original is None:  # renamed by its owner: that stage goes unreported rather than the run failing
            print(f"    phase clock: {owner.__name__}.{attribute} not found", file=sys.stderr)
            return

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started

        setattr(owner, attribute, timed)
        self._undo.append(lambda: setattr(owner, attribute, original))

    def restore(self) -> None:
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()


@contextmanager
def ingest_phases() -> Iterator[PhaseClock]:
    """Time the stages of ingest_paths: validation, event append, projections, publication, snapshot."""
    import pipelines.ingestion.ingest as ingest
    import pipelines.publishing.publication as publication
    import pipelines.store.snapshot as snapshot
    from pipelines.store.event_store import EventStore

    clock = PhaseClock()
    clock.wrap(ingest, "validate_files", "validate (GX gate)")
    clock.wrap(ingest, "named_precincts", "read stored protocols")
    clock.wrap(ingest, "decide_protocols", "decide rows")
    clock.wrap(EventStore, "append", "append events")
    clock.wrap(EventStore, "append_files", "append files' events")
    clock.wrap(ingest.Ingestor, "_ingest_declaration", "declare")
    clock.wrap(ingest, "update_projections", "project (file commits)")
    clock.wrap(ingest, "publish_changed", "allocate + publish")
    clock.wrap(publication, "write_publication_folder", "publication folder")
    clock.wrap(snapshot, "refresh_snapshot", "snapshot refresh")
    clock.wrap(snapshot, "advance_generation", "snapshot delta")
    clock.wrap(ingest, "build_data_docs", "Data Docs")
    _report_each_file(clock, ingest.Ingestor)
    try:
        yield clock
    finally:
        clock.restore()


def _report_each_file(clock: PhaseClock, ingestor: Any) -> None:
    """Progress on stderr: a million polling stations take minutes, and silence looks like a hang."""
    original = ingestor.finish
    started = time.perf_counter()

    def finish(self: Any) -> Any:
        outcomes = original(self)
        for outcome in outcomes:
            print(f"    {time.perf_counter() - started:8.1f}s  {outcome.line()}", file=sys.stderr, flush=True)
        return outcomes

    ingestor.finish = finish
    clock._undo.append(lambda: setattr(ingestor, "finish", original))


def full_pipeline(data_dir: Path, warehouse: Path) -> Timings:
    """(c) ingest_paths into a fresh warehouse: declare, validate, append, project, allocate, publish."""
    from pipelines.ingestion.ingest import ingest_paths

    shutil.rmtree(warehouse, ignore_errors=True)
    with ingest_phases() as clock:
        started = time.perf_counter()
        summary = ingest_paths([data_dir], warehouse=warehouse)
        seconds = time.perf_counter() - started
    return _ingest_result(seconds, summary, clock)


def cli_ingest(data_dir: Path, warehouse: Path) -> Timings:
    """`elections ingest DATA` as a user types it, into a fresh warehouse: the interpreter's start-up
    and every import (GX's ~3 s among them) included, which (c) leaves out."""
    shutil.rmtree(warehouse, ignore_errors=True)
    command = [str(Path(sys.executable).with_name("elections")), "ingest", str(data_dir)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([*command, "--warehouse", str(warehouse)], check=True, capture_output=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"seconds": seconds, "command_cpu_seconds": round(used, 3)}


def incremental_batch(batch: Path, warehouse: Path) -> Timings:
    """ingest_paths of one amendment file into a warehouse that already holds an election."""
    from pipelines.ingestion.ingest import ingest_paths

    with ingest_phases() as clock:
        started = time.perf_counter()
        summary = ingest_paths([batch], warehouse=warehouse)
        seconds = time.perf_counter() - started
    return _ingest_result(seconds, summary, clock)


# What ingest_paths does after the new seat table and its publication folder are written.
AFTER_PUBLICATION = ("Data Docs", "snapshot refresh")


def _ingest_result(seconds: float, summary: Any, clock: PhaseClock) -> Timings:
    applied = sum(f.rows_applied for f in summary.files)
    quarantined = sum(f.rows_quarantined for f in summary.files)
    after = sum(clock.seconds.get(k, 0.0) for k in AFTER_PUBLICATION)
    return {
        "seconds": seconds,
        "to_publication_seconds": seconds - after,
        "rows_applied": applied,
        "rows_quarantined": quarantined,
        "publications": len(summary.publications),
        "phases": {k: round(v, 4) for k, v in sorted(clock.seconds.items())},
    }


def rebuild(warehouse: Path) -> Timings:
    """rebuild_projections of the whole log inside one transaction (as `elections rebuild` does)."""
    from pipelines.core.paths import WarehousePaths
    from pipelines.store.event_store import EventStore
    from pipelines.store.projections import rebuild_projections

    with EventStore.open_writer(WarehousePaths(warehouse)) as store:
        started = time.perf_counter()
        with store.transaction():
            position = rebuild_projections(store.conn)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "log_position": position}


def verify(warehouse: Path) -> Timings:
    """`elections verify`'s whole audit (chain hashed in Python, projections rebuilt in a scratch
    database and compared, publication folders rendered again); findings count as a failed run."""
    from pipelines.audit.warehouse_audit import audit_warehouse
    from pipelines.core.paths import WarehousePaths

    started = time.perf_counter()
    report = audit_warehouse(WarehousePaths(warehouse))
    seconds = time.perf_counter() - started
    if not report.intact:
        raise RuntimeError(f"verify found problems in the bench warehouse: {report.findings[:3]}")
    return {"seconds": seconds, "events": report.events}


def write_amendments(data_dir: Path, out: Path, *, first: int, count: int) -> Path:
    """Version-2 protocols for `count` precincts from row `first` on: one vote moves from list 1 to 2."""
    source = protocol_files(data_dir)[0]
    frame = pd.read_csv(source, skiprows=range(1, first + 1), nrows=count)
    if len(frame) < count:
        raise ValueError(f"{source.name} has fewer than {first + count} protocols")
    movable = frame["list_01"] > 0
    frame.loc[movable, "list_01"] -= 1
    frame.loc[movable, "list_02"] += 1
    frame["version"] = 2
    frame["reason"] = "recount"
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    return out
