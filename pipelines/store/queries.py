"""The pipeline's SQL, kept in `warehouse/` and loaded by name.

- `query(name)`: `warehouse/queries/<name>.sql`, read-only (SELECT, WITH);
- `statement(name)`: `warehouse/statements/<name>.sql`, what writes: INSERT, UPDATE, DELETE and
  CREATE of projection rows and temp tables.

Each file holds one statement; its first line is a `--` comment saying what it is for. Values always
go in as parameters (`$name` or `?`), never into the text. The one thing a parameter cannot carry is
an identifier, so the text may name a list of columns known only at run time (the list ids of an
election) with a marker, `{{name}}` or `{{alias.name}}`, filled from the keyword argument of that
name: each id quoted (`"id"` or `alias."id"`), comma-separated. A marker without its argument, an
argument without its marker, or an empty list is an error, so a file and its caller cannot drift.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Final

from pipelines.core.paths import SQL_DIR

QUERIES_DIR: Final = SQL_DIR / "queries"
STATEMENTS_DIR: Final = SQL_DIR / "statements"
_NAME = re.compile(r"^[a-z0-9_]+$")
_MARKER = re.compile(r"\{\{(?:([a-z_][a-z0-9_]*)\.)?([a-z_][a-z0-9_]*)\}\}")


def query(name: str, **identifiers: Sequence[str]) -> str:
    """The text of one read-only query, its `{{markers}}` filled from `identifiers`."""
    return _filled(_text(QUERIES_DIR, name), name, identifiers)


def statement(name: str, **identifiers: Sequence[str]) -> str:
    """The text of one statement that writes, its `{{markers}}` filled from `identifiers`."""
    return _filled(_text(STATEMENTS_DIR, name), name, identifiers)


def sql_name(name: str) -> str:
    """Any text as an SQL identifier (list ids name columns of protocol files)."""
    return '"' + name.replace('"', '""') + '"'


@cache
def _text(folder: Path, name: str) -> str:
    # A name is a file name without `.sql`, never a path.
    if not _NAME.match(name):
        raise ValueError(f"not an SQL file name: {name!r}")
    return (folder / f"{name}.sql").read_text(encoding="utf-8")


def _filled(text: str, name: str, identifiers: dict[str, Sequence[str]]) -> str:
    if not identifiers and "{{" not in text:
        return text
    used: set[str] = set()

    def fill(marker: re.Match[str]) -> str:
        alias, key = marker.group(1), marker.group(2)
        if key not in identifiers:
            raise ValueError(f"{name}.sql: no identifiers given for {marker.group(0)}")
        if not identifiers[key]:
            raise ValueError(f"{name}.sql: an empty list for {marker.group(0)}")
        used.add(key)
        prefix = f"{alias}." if alias else ""
        return ", ".join(prefix + sql_name(i) for i in identifiers[key])

    filled = _MARKER.sub(fill, text)
    unused = sorted(set(identifiers) - used)
    if unused:
        raise ValueError(f"{name}.sql has no marker for {', '.join(unused)}")
    return filled
