"""Compiled jinja2 templates kept on disk, so that a new process renders Data Docs without compiling them.

GX builds a new jinja2 Environment for every Data Docs view, so every `build_data_docs` compiled GX's ~30
templates again (~0.25 s of a 1,000-row ingest). jinja2 asks a bytecode cache before it compiles; this
one keeps each template's code in a file named by jinja2's key (the template's name and file), inside a
folder named by the jinja2, GX and Python versions that made it. An entry is used only when it is whole
and current: the file carries the SHA-256 of its payload, and jinja2 itself refuses a payload whose
source checksum (SHA-1 of the template's text) or magic header (bytecode format, Python version) differs,
and compiles instead. A cache that cannot be read or written is no cache: the template is compiled, as
without one, and nothing fails.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import tempfile
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket, BytecodeCache

_DIGEST_BYTES = hashlib.sha256().digest_size


def cache_folder(root: Path, *, gx_version: str) -> Path:
    """The folder under `root` for code compiled by these jinja2, GX and Python versions."""
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    return root / f"jinja2-{jinja2.__version__}-gx-{gx_version}-py{python}"


class VerifiedBytecodeCache(BytecodeCache):
    """jinja2's bytecode cache in `folder` (created when first written), each entry checked whole."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _entry(self, bucket: Bucket) -> Path:
        return self.folder / f"{bucket.key}.bytecode"

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            stored = self._entry(bucket).read_bytes()
            digest, payload = stored[:_DIGEST_BYTES], stored[_DIGEST_BYTES:]
            if hashlib.sha256(payload).digest() == digest:
                bucket.bytecode_from_string(payload)  # resets itself on a stale checksum or header
        except Exception:  # any unreadable entry is a miss: the template is compiled
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        # jinja2 lets this raise into the render; a cache that cannot be written must not fail a run.
        with contextlib.suppress(Exception):
            payload = bucket.bytecode_to_string()
            self.folder.mkdir(parents=True, exist_ok=True)
            # Written beside and renamed over: another process reads the old entry or the new one whole.
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(hashlib.sha256(payload).digest() + payload)
                os.replace(temporary, self._entry(bucket))
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temporary)
