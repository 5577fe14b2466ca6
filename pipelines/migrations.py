"""Numbered SQL migrations from `warehouse/migrations`, applied in order when a warehouse is opened."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb

from pipelines.warehouse_paths import SQL_DIR

MIGRATIONS_DIR = SQL_DIR / "migrations"
VIEWS_DIR = SQL_DIR / "views"
_NUMBERED = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


def migration_files(folder: Path = MIGRATIONS_DIR) -> list[tuple[int, Path]]:
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _NUMBERED.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return found


def apply_migrations(conn: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply every migration not yet recorded, each in its own transaction; return those applied."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
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


def apply_views(conn: duckdb.DuckDBPyConnection) -> None:
    """(Re)create the analyst views; they hold no data, so replacing them is always safe."""
    for path in sorted(VIEWS_DIR.glob("*.sql")):
        conn.execute(path.read_text(encoding="utf-8"))


def first_row(cursor: duckdb.DuckDBPyConnection) -> tuple[Any, ...] | None:
    """The first row of a result, consuming the whole result: DuckDB 2 refuses further work on a
    connection while a result is only partly fetched."""
    rows = cursor.fetchall()
    return tuple(rows[0]) if rows else None
