"""Numbered SQL migrations from `warehouse/migrations`, applied in order when a warehouse is opened."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import duckdb

from pipelines.core.paths import SQL_DIR
from pipelines.store.queries import statement

MIGRATIONS_DIR = SQL_DIR / "migrations"
VIEWS_DIR = SQL_DIR / "views"
_NUMBERED = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


def migration_files(folder: Path = MIGRATIONS_DIR) -> list[tuple[int, Path]]:
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _NUMBERED.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    numbers = [version for version, _path in found]
    twice = sorted({v for v in numbers if numbers.count(v) > 1})
    if twice:
        # Two branches picked the same number: one of them would never be applied.
        names = [p.name for v, p in found if v in twice]
        raise RuntimeError(f"migrations share a number: {', '.join(names)}")
    return found


def apply_migrations(conn: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply every migration not yet recorded, each in its own transaction; return those applied."""
    conn.execute(statement("create_schema_migrations"))
    done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, path in migration_files():
        if version in done:
            continue
        conn.execute("BEGIN TRANSACTION")
        try:
            conn.execute(path.read_text(encoding="utf-8"))
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, now()::TIMESTAMP)", [version, path.name]
            )
            conn.execute("COMMIT")
        except Exception:
            conn.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


def apply_views(conn: duckdb.DuckDBPyConnection, *, force: bool = False) -> bool:
    """(Re)create the analyst views when their SQL changed; they hold no data, so replacing them is
    always safe. Returns whether they were replaced (every writer opens the warehouse, and replacing
    them all costs a quarter of a second). `force` after a migration, which may have moved what
    they read."""
    texts = [path.read_text(encoding="utf-8") for path in sorted(VIEWS_DIR.glob("*.sql"))]
    digest = hashlib.sha256("\x00".join(texts).encode("utf-8")).hexdigest()
    conn.execute("CREATE TABLE IF NOT EXISTS schema_views (sha256 VARCHAR NOT NULL)")
    current = first_row(conn.execute("SELECT sha256 FROM schema_views"))
    if current is not None and current[0] == digest and not force:
        return False
    conn.execute("BEGIN TRANSACTION")
    try:
        for text in texts:
            conn.execute(text)
        conn.execute("DELETE FROM schema_views")
        conn.execute("INSERT INTO schema_views VALUES (?)", [digest])
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    return True


def first_row(cursor: duckdb.DuckDBPyConnection) -> tuple[Any, ...] | None:
    """The first row of a result, consuming the whole result: DuckDB 2 refuses further work on a
    connection while a result is only partly fetched."""
    rows = cursor.fetchall()
    return tuple(rows[0]) if rows else None
