"""Read-only SQL kept in `warehouse/queries/<name>.sql` (first line: a comment saying what it is for)."""

from __future__ import annotations

import re
from functools import cache
from typing import Final

from pipelines.core.paths import SQL_DIR

QUERIES_DIR: Final = SQL_DIR / "queries"
_NAME = re.compile(r"^[a-z0-9_]+$")


@cache
def query(name: str) -> str:
    """The text of one named query; a name is a file name without `.sql`, never a path."""
    if not _NAME.match(name):
        raise ValueError(f"not a query name: {name!r}")
    return (QUERIES_DIR / f"{name}.sql").read_text(encoding="utf-8")
