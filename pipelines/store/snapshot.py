"""The readers' snapshot: a copy of the closed database, made by the writer before it lets go of the
writer lock, so that the next writer can never change the file while it is being copied and every
reader sees the state of the last commit (or the one before), whole."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from pipelines.core.durable import fsync_folder
from pipelines.core.paths import WarehousePaths


def refresh_snapshot(paths: WarehousePaths) -> Path:
    """Copy the closed database to the readers' snapshot, replacing it atomically. Only the holder of
    the writer lock calls this (`EventStore.open_writer` does, after closing its connection).

    The copy is flushed to disk before it replaces the old one, and the rename after it: otherwise a
    crash could leave a renamed but empty snapshot, and the next writer's COMMIT would wait for the
    kernel to write these hundreds of megabytes out (0.3 s of its republication at a million precincts).
    """
    target = paths.snapshot
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".snapshot-")
    os.close(fd)
    try:
        shutil.copyfile(paths.database, tmp)
        with open(tmp, "rb") as copy:
            os.fsync(copy.fileno())
        os.chmod(tmp, 0o444)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_folder(target.parent)
    return target
