"""The readers' snapshot is made by the writer before it releases the lock: the next writer always
finds it current, and readers always find a whole one while writers run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.core.paths import WarehousePaths
from pipelines.domain.events import BATCH_RECEIVED, NewEvent, batch_stream
from pipelines.store.event_store import EventStore, verify_connection

AT = datetime(2021, 1, 10, 20, 30)
REPO = Path(__file__).resolve().parents[2]

# A writer in another process that commits one event, then copies the snapshot slowly (a big
# database): the copy must still happen while it holds the lock.
SLOW_WRITER = textwrap.dedent(
    """
    import shutil, sys, time
    from datetime import datetime
    from pathlib import Path
    import pipelines.store.snapshot
    from pipelines.store.event_store import EventStore
    from pipelines.domain.events import BATCH_RECEIVED, NewEvent, batch_stream
    from pipelines.core.paths import WarehousePaths

    copy = shutil.copyfile
    def slow_copy(source, target):
        time.sleep(1.5)
        return copy(source, target)
    pipelines.store.snapshot.shutil.copyfile = slow_copy
    paths = WarehousePaths(Path(sys.argv[1]))
    event = NewEvent(batch_stream("slow"), BATCH_RECEIVED, "e", {}, datetime(2021, 1, 10), "slow")
    with EventStore.open_writer(paths) as store:
        with store.transaction():
            store.append_serialized([event])
        print("committed", flush=True)
    """
)


def snapshot_head(paths: WarehousePaths) -> tuple[int, str]:
    with duckdb.connect(str(paths.snapshot), read_only=True) as conn:
        row = conn.execute(
            "SELECT position, event_hash FROM events ORDER BY position DESC LIMIT 1"
        ).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


def append_one(paths: WarehousePaths, name: str) -> None:
    with EventStore.open_writer(paths) as store, store.transaction():
        store.append_serialized([NewEvent(batch_stream(name), BATCH_RECEIVED, "e", {}, AT, name)])


def test_the_next_writer_finds_the_snapshot_of_the_last_commit(tmp_path: Path) -> None:
    paths = WarehousePaths(tmp_path / "wh")
    append_one(paths, "first")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    writer = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, str(paths.root)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "committed"  # it holds the lock, copying is next
        with EventStore.open_writer(paths, wait_seconds=60) as store:  # waits for the slow copy
            head = store.head()
            assert head[0] == 2
            assert snapshot_head(paths) == head
    finally:
        writer.wait(timeout=60)
    assert writer.returncode == 0


def test_readers_find_a_whole_snapshot_while_writers_commit(tmp_path: Path) -> None:
    paths = WarehousePaths(tmp_path / "wh")
    append_one(paths, "first")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from tests.integration.test_snapshot_lock import append_one
        from pipelines.core.paths import WarehousePaths
        for k in range(12):
            append_one(WarehousePaths(Path(sys.argv[1])), f"batch-{k}")
        """
    )
    writers = subprocess.Popen([sys.executable, "-c", script, str(paths.root)], env=env)
    seen = []
    try:
        while writers.poll() is None:
            with duckdb.connect(str(paths.snapshot), read_only=True) as conn:
                report = verify_connection(conn)
                assert report.intact, report.problem
                seen.append(report.events)
    finally:
        writers.wait(timeout=120)
    assert writers.returncode == 0
    assert seen == sorted(seen) and len(seen) > 1  # never behind what a reader saw before
    assert snapshot_head(paths)[0] == 13


def test_a_writer_that_changed_nothing_leaves_the_snapshot_alone(tmp_path: Path) -> None:
    paths = WarehousePaths(tmp_path / "wh")
    append_one(paths, "first")
    before = paths.snapshot.stat()
    with EventStore.open_writer(paths) as store:
        store.head()
    after = paths.snapshot.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    os.unlink(paths.snapshot)
    with EventStore.open_writer(paths):
        pass
    assert snapshot_head(paths)[0] == 1  # a missing snapshot is made by the next writer
