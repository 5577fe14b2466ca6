"""The publication folders a reader may serve, found by listing the publications folder.

A folder counts only when its name passes the folder name rule, it is a real directory (not a
symlink) and its manifest names it; staging folders (a leading dot) are skipped. Folders are
immutable once renamed into place, so a manifest read once is kept; the listing is redone only
when the folder's own metadata changes (or every few seconds, in case its clock is coarse).
A file is read only when the manifest lists it, opened without following symlinks, and handed out
only when its sha256 is the manifest's.

A certified publication's folder never changes, not even when its certification is revoked: the
provisional publication `elections decertify` appends with the revocation states it in its manifest
(`revokes`), and the index marks the certified one from there (`describe`: `"revoked": {...}`).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from pipelines.core.errors import InputError, PipelineError
from pipelines.publishing.publication_files import check_folder_name
from pipelines.publishing.publication_layout import MANIFEST

MANIFEST_LIMIT = 1 << 20  # bytes; a manifest lists a dozen files
CHUNK = 1 << 20  # bytes read at a time from a published file
RELIST_SECONDS = 2.0  # relist at least this often even when the folder's metadata looks unchanged


class PublicationDamaged(PipelineError):
    """A publication folder whose file is missing, unreadable or differs from its manifest."""


@dataclass(frozen=True)
class PublishedFolder:
    """One publication folder as its manifest describes it."""

    publication_id: str
    election_id: str
    status: str
    position: int
    based_on_position: int
    published_at: str
    table_sha256: str
    manifest_sha256: str
    files: Mapping[str, str]  # file name -> sha256 stated in the manifest
    revokes: Mapping[str, Any] | None = None  # the revocation this publication was appended with

    def sha256_of(self, name: str) -> str | None:
        """The sha256 a file of the folder must have (the manifest's own included); None if unlisted."""
        return self.manifest_sha256 if name == MANIFEST else self.files.get(name)

    def summary(self) -> dict[str, Any]:
        """The manifest's facts; `PublicationIndex.describe` adds what later folders say about it."""
        revokes = {} if self.revokes is None else {"revokes": dict(self.revokes)}
        return {
            "publication_id": self.publication_id,
            "election_id": self.election_id,
            "status": self.status,
            "position": self.position,
            "based_on_position": self.based_on_position,
            "published_at": self.published_at,
            "table_sha256": self.table_sha256,
            "manifest_sha256": self.manifest_sha256,
            **revokes,
        }


def open_no_follow(directory: Path, name: str) -> BinaryIO:
    """A regular file `name` directly inside `directory`, opened through no symlink (neither the
    folder nor the file) and without blocking on a FIFO."""
    check_folder_name(name)
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    finally:
        os.close(dir_fd)
    handle = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        handle.close()
        raise PublicationDamaged(f"{directory / name} is not a regular file")
    return handle


def _read_no_follow(directory: Path, name: str, limit: int) -> bytes:
    with open_no_follow(directory, name) as handle:
        if os.fstat(handle.fileno()).st_size > limit:
            raise PublicationDamaged(f"{directory / name} is larger than {limit} bytes")
        return handle.read(limit + 1)


def _manifest_folder(folder: Path) -> PublishedFolder | None:
    """The folder as its manifest states it; None when the manifest is missing, malformed or names
    another publication (such a folder is not served)."""
    try:
        data = _read_no_follow(folder, MANIFEST, MANIFEST_LIMIT)
        manifest = json.loads(data)
        files = {str(name): str(entry["sha256"]) for name, entry in dict(manifest["files"]).items()}
        revokes = manifest.get("revokes")
        published = PublishedFolder(
            publication_id=str(manifest["publication_id"]),
            election_id=str(manifest["election_id"]),
            status=str(manifest["status"]),
            position=int(manifest["position"]),
            based_on_position=int(manifest["based_on_position"]),
            published_at=str(manifest["published_at"]),
            table_sha256=str(manifest["table_sha256"]),
            manifest_sha256=hashlib.sha256(data).hexdigest(),
            files=files,
            revokes=None if revokes is None else dict(revokes),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError, PipelineError):
        return None
    if published.publication_id != folder.name:
        return None
    return published


class PublicationIndex:
    """The served publications of one warehouse, kept in step with its publications folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._signature: tuple[int, ...] | None = None
        self._listed_at = float("-inf")
        self._folders: dict[str, PublishedFolder] = {}
        self._ordered: tuple[PublishedFolder, ...] = ()
        self._revoked: dict[str, dict[str, Any]] = {}  # certified publication id -> its revocation
        self._verified: set[tuple[str, str, int, int, int, int]] = set()

    def refresh(self) -> None:
        """Relist the folder when it changed (cheap when it did not: one stat)."""
        try:
            info = os.stat(self.root)
            signature: tuple[int, ...] = (info.st_ino, info.st_mtime_ns, info.st_nlink, info.st_size)
        except FileNotFoundError:
            signature = ()
        now = time.monotonic()
        if signature == self._signature and now - self._listed_at < RELIST_SECONDS:
            return
        with self._lock:
            folders = dict(self._folders)
            present = set()
            if signature:
                with os.scandir(self.root) as entries:
                    for entry in entries:
                        if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
                            continue
                        present.add(entry.name)
                        if entry.name not in folders:
                            published = _manifest_folder(Path(entry.path))
                            if published is not None:
                                folders[entry.name] = published
            folders = {name: f for name, f in folders.items() if name in present}
            self._folders = folders
            self._ordered = tuple(sorted(folders.values(), key=lambda f: (f.position, f.publication_id)))
            self._revoked = {
                str(f.revokes["publication_id"]): {
                    **{k: v for k, v in f.revokes.items() if k != "publication_id"},
                    "replaced_by": f.publication_id,
                }
                for f in self._ordered
                if f.revokes is not None
            }
            self._signature = signature
            self._listed_at = now

    def publications(self, election_id: str | None = None) -> Sequence[PublishedFolder]:
        """Every served publication (of one election), by log position."""
        self.refresh()
        ordered = self._ordered
        return ordered if election_id is None else tuple(f for f in ordered if f.election_id == election_id)

    def revocation_of(self, folder: PublishedFolder) -> dict[str, Any] | None:
        """How a certified publication was revoked (reason, decider, position, the provisional
        publication that replaced it), as the served folders say; None while it stands."""
        self.refresh()
        return self._revoked.get(folder.publication_id)

    def describe(self, folder: PublishedFolder) -> dict[str, Any]:
        """The folder's summary; for a certified publication also `revoked`: null while it stands."""
        summary = folder.summary()
        if folder.status == "certified":
            summary["revoked"] = self.revocation_of(folder)
        return summary

    def elections(self) -> list[str]:
        return sorted({f.election_id for f in self.publications()})

    def latest(self, election_id: str | None = None) -> PublishedFolder | None:
        found = self.publications(election_id)
        return found[-1] if found else None

    def find(self, publication_id: str) -> PublishedFolder | None:
        """The publication of that id among the listed folders; the id never builds a path by itself."""
        check_folder_name(publication_id)
        self.refresh()
        return self._folders.get(publication_id)

    def open(self, folder: PublishedFolder, name: str) -> BinaryIO:
        """A file of the publication, open at its start, whose content has the manifest's sha256
        (hashed once per version of the file on disk: a file changed in place is hashed again)."""
        expected = folder.sha256_of(name)
        if expected is None:
            raise InputError(f"{folder.publication_id} has no file {name!r}", value=name)
        directory = self.root / folder.publication_id
        try:
            handle = open_no_follow(directory, name)
        except OSError as exc:
            raise PublicationDamaged(f"{directory / name} cannot be opened: {exc.strerror}") from exc
        try:
            info = os.fstat(handle.fileno())
            version = (
                folder.publication_id,
                name,
                info.st_ino,
                info.st_size,
                info.st_mtime_ns,
                info.st_ctime_ns,
            )
            if version not in self._verified:
                digest = hashlib.sha256()
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
                if digest.hexdigest() != expected:
                    raise PublicationDamaged(f"{directory / name} differs from its manifest")
                with self._lock:
                    self._verified.add(version)
                handle.seek(0)
        except BaseException:
            handle.close()
            raise
        return handle

    def read(self, folder: PublishedFolder, name: str) -> bytes:
        """A whole file of the publication, checked against the manifest's sha256."""
        with self.open(folder, name) as handle:
            return handle.read()
