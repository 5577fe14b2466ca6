"""Writes that survive a crash once they return: the file's bytes and, for a new file or a rename,
the folder entry that names it are flushed to disk."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_folder(folder: Path) -> None:
    """Make a new file or a rename in `folder` durable: the folder's list of entries is flushed."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def append_line(path: Path, line: str) -> None:
    """Append one line of text and flush it to disk (and the folder, when the file is new) before
    returning, so that whatever is committed after it can rely on it being there."""
    created = not path.exists()
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    if created:
        fsync_folder(path.parent)
