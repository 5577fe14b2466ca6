"""What intake may read: a regular file under the size limit, reached without following any link.

Every received path is looked at with `lstat` before a byte of it is read. Symbolic links (to files or
folders), hard-linked files (a file with more than one name), FIFOs, sockets, devices and files over
the limit are refused unread. A file that passes is
opened relative to the folder it was found in, each folder on the way and the file itself with
`O_NOFOLLOW` (a link swapped in after the look fails to open), and with `O_NONBLOCK` (a FIFO swapped in
cannot make the open hang). The descriptor is checked to be the same regular file the look saw, and
at most limit + 1 bytes are read, so a file that grows meanwhile is caught, not swallowed.

Folders are walked recursively without following links. Files still being written (`*.part`, `*.tmp`,
`*.partial`), hidden files and folders, markers such as `_READY`, precinct sidecars and rule
profiles are not data: they are skipped, not refused (a declaration reads what it names).
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath

from pipelines.core.errors import InputError, PipelineError
from pipelines.domain.events import canonical_json

DECLARATION_SUFFIX = ".election.json"
PRECINCTS_SUFFIX = ".precincts.csv"  # read through the declaration that names it, never on its own
# Rule profiles are read through the declaration that names them; `.json` is data only as a declaration.
PROFILE_SUFFIXES = (".yaml", ".yml", ".json")
UNFINISHED_SUFFIXES = (".part", ".tmp", ".partial")

# Where the inbox keeps what it is done with: never walked as received data, wherever a walk starts.
PROCESSED = "processed"
REFUSED = "refused"
BOOKKEEPING_FOLDERS = (PROCESSED, REFUSED)

MAX_FILE_BYTES_ENV = "ELECTIONS_MAX_FILE_BYTES"
# A precinct file of the largest country in the world is a few tens of MB: anything bigger is an export
# mistake or an attack, not a batch.
DEFAULT_MAX_FILE_BYTES = 512 * 1024 * 1024

_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
_FOLDER_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY | os.O_CLOEXEC

# Refusal rules, as they appear in BatchQuarantined events and `elections quarantine`.
SYMLINK = "symlink"
HARD_LINK = "hard_link"
NOT_REGULAR_FILE = "not_regular_file"
FILE_TOO_LARGE = "file_too_large"
UNREADABLE_FILE = "unreadable_file"
CHANGED_WHILE_READ = "changed_while_read"


def max_file_bytes() -> int:
    """`$ELECTIONS_MAX_FILE_BYTES`, else 512 MiB: the largest file intake reads."""
    raw = os.environ.get(MAX_FILE_BYTES_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_FILE_BYTES
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 1:
        raise InputError(f"{MAX_FILE_BYTES_ENV} must be a whole number of bytes above 0", value=raw)
    return value


def is_data_name(name: str) -> bool:
    """Whether a file found in a folder is data: not hidden, a marker, unfinished, a sidecar or a profile."""
    if name.startswith((".", "_")) or name.endswith((*UNFINISHED_SUFFIXES, PRECINCTS_SUFFIX)):
        return False
    return name.endswith(DECLARATION_SUFFIX) or not name.lower().endswith(PROFILE_SUFFIXES)


@dataclass(frozen=True)
class IntakeFile:
    """A received path: `relative` below `root`, which is where the operator pointed (trusted as named);
    nothing below it is reached through a link."""

    root: Path
    relative: PurePath
    # Where the files a declaration names (precinct list, rule profile) are looked up: its own folder,
    # unless the file was moved to be read (an inbox claim), then the folder it was delivered to.
    delivered_to: Path | None = None

    @classmethod
    def named(cls, path: Path) -> IntakeFile:
        return cls(path.parent, PurePath(path.name))

    @property
    def references(self) -> Path:
        return self.delivered_to if self.delivered_to is not None else self.path.parent

    @property
    def path(self) -> Path:
        return self.root / self.relative

    @property
    def name(self) -> str:
        return self.relative.name


@dataclass(frozen=True)
class Refusal:
    """A received path refused before its content was read, with what `lstat`/`fstat` saw of it."""

    name: str
    rule: str
    kind: str
    size: int
    message: str
    mtime_ns: int = 0

    @property
    def batch_id(self) -> str:
        """The refusal's batch id: from what was seen of the path, since the content was never read."""
        seen = {"refused_unread": self.name, "rule": self.rule, "kind": self.kind, "size": self.size}
        return hashlib.sha256(canonical_json({**seen, "mtime_ns": self.mtime_ns}).encode()).hexdigest()


def file_kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "regular file"
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    return "special file"


def refusal_for(path: Path, seen: os.stat_result, limit: int, display: str | None = None) -> Refusal | None:
    """Why `path` (as `lstat` saw it) must not be read, or None when it is a regular file within limit."""
    name = display or path.name
    kind = file_kind(seen.st_mode)

    def refuse(rule: str, message: str) -> Refusal:
        return Refusal(name, rule, kind, seen.st_size, message, seen.st_mtime_ns)

    if stat.S_ISLNK(seen.st_mode):
        try:
            target = os.readlink(path)  # the link's own text: nothing behind it is touched
        except OSError:
            target = "?"
        return refuse(SYMLINK, f"a symbolic link (to {target!r}) refused unread: intake never follows links")
    if not stat.S_ISREG(seen.st_mode):
        return refuse(NOT_REGULAR_FILE, f"a {kind}, not a regular file: refused unread")
    if seen.st_nlink > 1:
        # Another name, possibly outside the folder and someone else's, reaches the same bytes.
        return refuse(
            HARD_LINK,
            f"a regular file with {seen.st_nlink} names (a hard link): its other names may lie "
            "outside the folder, refused unread; deliver a copy",
        )
    if seen.st_size > limit:
        return refuse(
            FILE_TOO_LARGE,
            f"file is {seen.st_size} bytes, above the limit of {limit} "
            f"({MAX_FILE_BYTES_ENV}): refused unread",
        )
    return None


def _open_beneath(source: IntakeFile) -> int:
    """A descriptor of `source`, every folder below its root and the file itself opened without
    following a link (ELOOP/ENOTDIR when one is there)."""
    parts = source.relative.parts
    if not parts or source.relative.is_absolute() or any(p in ("..", ".", "") for p in parts):
        raise OSError(errno.EINVAL, "not a plain path below its folder")
    folder = os.open(source.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            inner = os.open(part, _FOLDER_FLAGS, dir_fd=folder)
            os.close(folder)
            folder = inner
        return os.open(parts[-1], _READ_FLAGS, dir_fd=folder)
    finally:
        os.close(folder)


def read_intake_file(source: IntakeFile | Path, *, limit: int | None = None) -> bytes | Refusal:
    """The bytes of a received regular file, or why it was refused before (or while) reading it."""
    if isinstance(source, Path):
        source = IntakeFile.named(source)
    limit = max_file_bytes() if limit is None else limit
    name = source.name
    path = source.path
    try:
        seen = os.lstat(path)
    except OSError as exc:
        return Refusal(name, UNREADABLE_FILE, "unknown", 0, f"cannot look at the file: {exc.strerror}")
    refused = refusal_for(path, seen, limit)
    if refused is not None:
        return refused

    def changed(what: str, now: os.stat_result) -> Refusal:
        return Refusal(
            name,
            CHANGED_WHILE_READ,
            file_kind(now.st_mode),
            now.st_size,
            f"the file {what} while it was being taken in: refused, send it again when it is complete",
            now.st_mtime_ns,
        )

    try:
        fd = _open_beneath(source)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
            return Refusal(name, SYMLINK, "symbolic link", 0, "a link was swapped in: refused unread")
        return Refusal(
            name, UNREADABLE_FILE, "regular file", seen.st_size, f"cannot open the file: {exc.strerror}"
        )
    try:
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) != (seen.st_dev, seen.st_ino) or not stat.S_ISREG(opened.st_mode):
            return changed("was replaced by another", opened)
        refused = refusal_for(path, opened, limit)  # grown, or linked, since the look
        if refused is not None:
            return refused
        # One byte more than the look promised shows a file still growing, without reading it all.
        data = _read_at_most(fd, min(opened.st_size, limit) + 1)
        after = os.fstat(fd)
    except OSError as exc:
        return Refusal(name, UNREADABLE_FILE, "regular file", seen.st_size, f"cannot read: {exc.strerror}")
    finally:
        os.close(fd)
    if len(data) > limit:
        return changed("grew above the size limit", after)
    if len(data) != after.st_size or (after.st_size, after.st_mtime_ns) != (
        opened.st_size,
        opened.st_mtime_ns,
    ):
        return changed("changed", after)
    return data


def _read_at_most(fd: int, count: int) -> bytes:
    """Up to `count` bytes; a regular file gives them in one read, so there is usually no copy."""
    chunks: list[bytes] = []
    left = count
    while left > 0:
        chunk = os.read(fd, left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def walk(root: Path, *, skip_folders: Iterable[str] = BOOKKEEPING_FOLDERS) -> list[IntakeFile]:
    """Every entry below `root` that may be data, recursively, never descending through a link:
    links and special files are listed too (refused when read, with the reason); `skip_folders` are
    top-level folders that hold no received data (the inbox's own bookkeeping)."""
    return list(_entries(root, PurePath(), frozenset(skip_folders)))


def in_arrival_order(files: Iterable[IntakeFile]) -> list[IntakeFile]:
    """Declarations first (results need their election), then by modification time and path."""

    def order(f: IntakeFile) -> tuple[int, int, str]:
        try:
            arrived = os.lstat(f.path).st_mtime_ns
        except OSError:
            arrived = 0  # gone meanwhile: reading it says so
        return (0 if f.name.endswith(DECLARATION_SUFFIX) else 1, arrived, str(f.relative))

    return sorted(files, key=order)


def _entries(root: Path, below: PurePath, skipped: frozenset[str]) -> Iterator[IntakeFile]:
    with os.scandir(root / below) as listing:
        entries = sorted(listing, key=lambda e: e.name)
    for entry in entries:
        relative = below / entry.name
        if entry.is_dir(follow_symlinks=False):
            if not entry.name.startswith((".", "_")) and not (below == PurePath() and entry.name in skipped):
                yield from _entries(root, relative, skipped)
        elif is_data_name(entry.name):
            yield IntakeFile(root, relative)


def path_refusal(path: Path, limit: int | None = None) -> Refusal | None:
    """`lstat` look at a path named by the operator; None for a regular file or a real folder."""
    try:
        seen = os.lstat(path)
    except FileNotFoundError:
        raise InputError("no such file or folder", file=str(path)) from None
    except OSError as exc:
        raise PipelineError(f"cannot look at {path}: {exc.strerror}") from None
    if stat.S_ISDIR(seen.st_mode):
        return None
    return refusal_for(path, seen, max_file_bytes() if limit is None else limit)
