"""Two ingests started at the same instant: one waits or fails clearly, the store stays whole."""

from __future__ import annotations

import os
import traceback
from pathlib import Path

import pytest

from pipelines.core.errors import PipelineError
from pipelines.ingestion.ingest import ingest_paths
from pipelines.store.event_store import WriterBusy
from tests.drills.support import SeatRows, assert_store_sound, precinct_votes, seat_table

DONE, BUSY, OTHER_PIPELINE_ERROR, CRASHED = 0, 3, 4, 1

pytestmark = pytest.mark.xdist_group("drills")  # one worker, one memo of gate outcomes


def _writer(files: list[Path], warehouse: Path, wait_seconds: float, start: int, log: Path) -> int:
    """Fork a writer that blocks until a byte arrives on `start`, then ingests; its exit code says how."""
    pid = os.fork()
    if pid != 0:
        return pid
    code = DONE
    try:
        os.read(start, 1)
        ingest_paths(files, warehouse=warehouse, wait_seconds=wait_seconds)
    except WriterBusy as exc:
        log.write_text(str(exc), encoding="utf-8")
        code = BUSY
    except PipelineError:
        log.write_text(traceback.format_exc(), encoding="utf-8")
        code = OTHER_PIPELINE_ERROR
    except BaseException:
        log.write_text(traceback.format_exc(), encoding="utf-8")
        code = CRASHED
    os._exit(code)


def _race(
    inboxes: tuple[list[Path], list[Path]], warehouse: Path, wait_seconds: float, logs: Path
) -> list[int]:
    read_end, write_end = os.pipe()
    pids = [
        _writer(files, warehouse, wait_seconds, read_end, logs / f"writer-{k}.log")
        for k, files in enumerate(inboxes)
    ]
    os.write(write_end, b"go")  # both writers wake at once
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
    os.close(read_end)
    os.close(write_end)
    return codes


@pytest.mark.parametrize(
    ("wait_seconds", "split"), [(0.0, False), (60.0, True)], ids=["no-wait-same-files", "wait-halves"]
)
def test_two_writers_at_once_never_corrupt_the_store(
    wait_seconds: float,
    split: bool,
    election_files: list[Path],
    clean_result: tuple[SeatRows, SeatRows],
    tmp_path: Path,
) -> None:
    declaration, *protocols = election_files
    inboxes = (
        ([declaration, *protocols[:1]], [declaration, *protocols[1:]])
        if split
        else (election_files, election_files)
    )
    warehouse = tmp_path / "warehouse"
    codes = _race(inboxes, warehouse, wait_seconds, tmp_path)
    logs = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.glob("writer-*.log")}
    assert DONE in codes, logs
    assert set(codes) <= ({DONE, BUSY} if wait_seconds == 0 else {DONE}), logs
    for text in logs.values():  # a refused writer says who holds the store and what to do
        assert "is being written by" in text and "run the command again" in text
    assert_store_sound(warehouse)

    ingest_paths(election_files, warehouse=warehouse)  # the operator's rerun
    assert_store_sound(warehouse)
    assert (seat_table(warehouse), precinct_votes(warehouse)) == clean_result
