"""SIGKILL the writer anywhere in an ingest: the log verifies, nothing is partial, a rerun ends right.

The writer is a real separate process: os.fork() of the test process, which has the stack imported
already (a fresh `elections ingest` spends seconds importing GX). Most trials kill at a chosen point -
while an archive file is written, inside the transaction, between commits, while the publication
folder or the snapshot is written - the rest after a random delay. Seeds make every kill point
reproducible: trial N always kills at the same place.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

import pipelines.ingestion.ingest
import pipelines.publishing.publication
import pipelines.store.event_store
from pipelines.core.paths import WarehousePaths
from pipelines.ingestion.ingest import ingest_paths
from pipelines.store.event_store import EventStore, verify_connection
from tests.drills.support import (
    SeatRows,
    assert_every_publication_has_its_folder,
    assert_store_sound,
    precinct_votes,
    seat_table,
)

KILLS = 20  # trials go on until this many writers died by SIGKILL (a delay may outlast a run)
MAX_TRIALS = 30
KILL_POINTS = (
    "archive write",  # data written to the temporary file, not yet renamed
    "archive rename",  # file in place, its receipt and events not yet written
    "mid-transaction",  # events appended, projections not yet moved, no COMMIT
    "projections moved",  # everything in the transaction done but the COMMIT
    "head anchor",  # COMMIT done, the log's head not yet recorded outside the database
    "after commit",  # a file committed, the next not started
    "publication folder",  # publication committed, its folder not yet written
    "snapshot copy",  # half of the database copied to the readers' snapshot
    "random delay",  # killed from outside after a random time
)

pytestmark = pytest.mark.xdist_group("drills")  # one worker, one memo of gate outcomes


def _kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _hooks() -> dict[str, tuple[Any, str]]:
    """Where each kill point sits: the object and attribute the writer calls there."""
    return {
        "archive write": (os, "fsync"),
        "archive rename": (os, "replace"),
        "mid-transaction": (EventStore, "append"),
        "projections moved": (pipelines.ingestion.ingest, "update_projections"),
        "head anchor": (pipelines.store.event_store, "append_anchor"),  # called right after each COMMIT
        "after commit": (pipelines.ingestion.ingest.Ingestor, "_commit"),
        "publication folder": (pipelines.publishing.publication, "write_publication_folder"),
        "snapshot copy": (shutil, "copyfile"),
    }


def _counting(calls: dict[str, int], point: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def counted(*args: Any, **kwargs: Any) -> Any:
        if _relevant(point, args):
            calls[point] = calls.get(point, 0) + 1
        return original(*args, **kwargs)

    return counted


def _relevant(point: str, args: tuple[Any, ...]) -> bool:
    """os.replace and shutil.copyfile serve other code too: count only the calls of interest."""
    if point == "archive rename":
        return ".incoming-" in str(args[0])
    if point == "snapshot copy":
        return ".snapshot-" in str(args[1])
    return True


def _arm(point: str, nth: int) -> None:
    """In the writer process: die by SIGKILL at the nth call of the point's hook."""
    owner, attribute = _hooks()[point]
    original = getattr(owner, attribute)
    seen = 0

    def fatal(*args: Any, **kwargs: Any) -> Any:
        nonlocal seen
        if not _relevant(point, args):
            return original(*args, **kwargs)
        seen += 1
        if seen < nth:
            return original(*args, **kwargs)
        if point == "snapshot copy":  # copy half of the database, then die
            data = Path(args[0]).read_bytes()
            Path(args[1]).write_bytes(data[: len(data) // 2])
        elif point in ("archive write", "publication folder", "head anchor"):
            pass  # die before the call: data in the temporary file / publication without its folder
        else:
            original(*args, **kwargs)
        _kill_self()

    setattr(owner, attribute, fatal)


def _fork_writer(inbox: list[Path], warehouse: Path, point: str | None, nth: int) -> int:
    pid = os.fork()
    if pid == 0:  # the writer: never returns into pytest
        code = 0
        try:
            if point is not None:
                _arm(point, nth)
            ingest_paths(inbox, warehouse=warehouse)
        except BaseException:
            code = 1
        os._exit(code)
    return pid


@pytest.fixture(scope="module")
def election(election_files: list[Path], later_files: list[Path]) -> list[Path]:
    # The amendment rides in the same run: its decision depends on what the run committed before it.
    return [*election_files, later_files[0]]


@pytest.fixture(scope="module")
def clean(
    election: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[SeatRows, SeatRows, dict[str, int], float]:
    """The seat table and precinct votes of an uninterrupted run, how often each hook fires, its time
    (of a second run, whose gate outcomes are reused as in the trials)."""
    ingest_paths(election, warehouse=tmp_path_factory.mktemp("first") / "warehouse")
    warehouse = tmp_path_factory.mktemp("clean") / "warehouse"
    calls: dict[str, int] = {}
    with pytest.MonkeyPatch.context() as patch:
        for point, (owner, attribute) in _hooks().items():
            patch.setattr(owner, attribute, _counting(calls, point, getattr(owner, attribute)))
        started = time.monotonic()
        ingest_paths(election, warehouse=warehouse)
        seconds = time.monotonic() - started
    assert_store_sound(warehouse)
    return seat_table(warehouse), precinct_votes(warehouse), calls, seconds


@pytest.mark.timeout(300)
def test_sigkill_anywhere_then_rerun_gives_the_clean_result(
    election: list[Path], clean: tuple[SeatRows, SeatRows, dict[str, int], float], tmp_path: Path
) -> None:
    clean_seats, clean_votes, calls, clean_seconds = clean
    assert clean_seats and all(calls.get(p, 0) > 0 for p in _hooks()), calls
    killed_at: list[str] = []
    failures: list[str] = []
    trial = -1
    while len(killed_at) < KILLS and trial < MAX_TRIALS - 1:
        trial += 1
        trial_started = time.monotonic()
        rng = random.Random(f"crash-drill-{trial}")
        point = KILL_POINTS[trial % len(KILL_POINTS)]
        warehouse = tmp_path / f"trial-{trial}" / "warehouse"
        if rng.random() < 0.25:  # kill a writer that adds to a store already holding results
            ingest_paths(election[:2], warehouse=warehouse)
        where = f"trial {trial} ({point}"
        if point == "random delay":
            pid = _fork_writer(election, warehouse, None, 0)
            delay = rng.uniform(0.0, 0.8 * clean_seconds)
            time.sleep(delay)
            os.kill(pid, signal.SIGKILL)
            where += f" after {delay:.2f}s)"
        else:
            nth = rng.randint(1, calls[point])
            pid = _fork_writer(election, warehouse, point, nth)
            where += f" call {nth} of {calls[point]})"
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            killed_at.append(point)
        else:  # the delay outlasted the run, or a preloaded store made the point fire fewer times
            assert os.WEXITSTATUS(status) == 0, f"{where}: the writer failed"

        try:
            assert_store_sound(warehouse, killed=True)
            ingest_paths(election, warehouse=warehouse)
            assert_store_sound(warehouse)
            assert_every_publication_has_its_folder(warehouse)
            assert seat_table(warehouse) == clean_seats, "the rerun's seat table differs from the clean run's"
            assert precinct_votes(warehouse) == clean_votes, "the rerun's precinct votes differ"
        except AssertionError as exc:  # go on: the report lists every kill point that fails
            failures.append(f"{where}: {str(exc).splitlines()[0]}")
        shutil.rmtree(warehouse.parent, ignore_errors=True)
        print(f"{where}: {time.monotonic() - trial_started:.2f}s")
    assert not failures, "\n".join(failures)
    assert set(KILL_POINTS) - {"random delay"} <= set(killed_at), killed_at
    assert len(killed_at) >= KILLS


def test_sigkill_between_the_first_commit_and_its_anchor(
    election: list[Path], clean: tuple[SeatRows, SeatRows, dict[str, int], float], tmp_path: Path
) -> None:
    """A new warehouse's first commit, killed before its head is recorded: verify finds the head ahead
    of the last anchor, as after any later commit (never a missing anchor file, which is tampering),
    and the rerun records it and ends right."""
    clean_seats, clean_votes, _, _ = clean
    warehouse = tmp_path / "warehouse"
    pid = _fork_writer(election, warehouse, "head anchor", 1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    paths = WarehousePaths(warehouse)
    with duckdb.connect(str(paths.database), read_only=True) as conn:
        report = verify_connection(conn, paths)
    assert report.events > 0
    assert report.kind == "unanchored", report.problem
    assert f"the log's head (position {report.events}) is not anchored" in str(report.problem)
    assert_store_sound(warehouse, killed=True)
    ingest_paths(election, warehouse=warehouse)
    assert_store_sound(warehouse)
    assert "restarted" not in paths.log_heads.read_text(encoding="ascii")
    assert seat_table(warehouse) == clean_seats
    assert precinct_votes(warehouse) == clean_votes
