"""Bring an older generation of the readers' snapshot up to the database, at the cost of what changed.

The generation was a whole copy of the database once and has been brought up to date this way since,
so it holds a prefix of the log. What it lacks is then exactly:

- the rows of the log tables past its head (append-only, every row keyed by the position of the event
  that carries it), copied from the database;
- the projections, derived from the log alone and deterministically (a rebuild from zero is
  byte-identical to incremental updates, whatever their batches): `update_projections` applies the new
  events to the generation as the writer applied them to the database.

Every other table is the schema's own bookkeeping (migrations applied, the views' digest) and must
already be equal, as must the tables' and views' definitions (macros come only with migrations and
views, which that bookkeeping names). Nothing is done, and the caller copies the whole database
instead, when the generation cannot be shown to follow the database that way: a reader holds it
(DuckDB's file lock; in this process, DuckDB refuses a second configuration of the same file), the
schema or its bookkeeping differs, its log is not a prefix of the database's log (the hash of its
head event), a projection is behind its log, or its log and projections do not reach the database's
head afterwards. It all happens in one transaction whose COMMIT checkpoints the file (no write-ahead
log is left beside it: readers open the file alone), so a writer killed inside leaves the generation
as it was, and one killed after leaves it whole at the new state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb

from pipelines.store.migrations import first_row
from pipelines.store.projections import CHECKPOINT, PROJECTION_TABLES, update_projections
from pipelines.store.queries import query, sql_name

SOURCE = "source_database"  # the database, attached read-only to the generation's connection
_PROJECTION_BOOKKEEPING = "projection_checkpoints"  # moved by update_projections with the projections

Config = Mapping[str, str | bool | int | float | list[str]]


def advance_generation(generation: Path, database: Path, log_tables: Sequence[str], config: Config) -> bool:
    """Bring `generation` (a closed DuckDB file) up to `database` (closed, the writer lock held), commit
    and checkpoint it; False, with the generation as it was, when that cannot be done by delta."""
    try:
        # A checkpoint threshold of 0: the COMMIT checkpoints the file at once, without writing the
        # write-ahead log first (readers open the file alone: nothing may stay in a log beside it).
        conn = duckdb.connect(str(generation), config={**config, "checkpoint_threshold": "0b"})
    except (duckdb.IOException, duckdb.ConnectionException):
        return False  # a reader holds it open: it stays as that reader sees it
    try:
        conn.execute(f"ATTACH {_literal(str(database))} AS {SOURCE} (READ_ONLY)")
        conn.execute("BEGIN TRANSACTION")
        follows = _follows(conn, log_tables)
        if follows is None:
            conn.execute("ROLLBACK")
            return False
        head, tables = follows
        for table in log_tables:
            if table in tables:
                name = sql_name(table)
                conn.execute(
                    f"INSERT INTO {name} SELECT * FROM {SOURCE}.{name} WHERE position > $head", {"head": head}
                )
        update_projections(conn)
        if not _caught_up(conn):
            conn.execute("ROLLBACK")
            return False
        conn.execute("COMMIT")
        conn.execute("CHECKPOINT")  # a no-op after the COMMIT's own, unless that one could not run
    except duckdb.Error:
        return False  # rolled back at close (or, if only the checkpoint failed, committed whole)
    finally:
        conn.close()
    return not Path(f"{generation}.wal").exists()


def _follows(conn: duckdb.DuckDBPyConnection, log_tables: Sequence[str]) -> tuple[int, set[str]] | None:
    """The generation's log head and tables when it can be brought up to the source by delta (see the
    module's doc); None when it cannot."""
    lists = {
        bool(own): definitions
        for own, definitions in conn.execute(query("definitions_by_database")).fetchall()
    }
    if True not in lists or lists.get(True) != lists.get(False):
        return None
    head, checkpoint, source_head, source_checkpoint, extends_head = _heads(conn)
    if not (extends_head and checkpoint == head and source_checkpoint == source_head):
        return None
    tables = {str(name) for kind, name, _sql in lists[True] if kind == "table"}
    bookkeeping = sorted(tables - {*log_tables, *PROJECTION_TABLES, _PROJECTION_BOOKKEEPING})
    for table in bookkeeping:
        found = first_row(conn.execute(query("generation_table_differences", table=[table])))
        if found is None or found[0] != 0:
            return None
    return int(head), tables


def _caught_up(conn: duckdb.DuckDBPyConnection) -> bool:
    """Whether the generation's log and projections now reach the source's head."""
    head, checkpoint, source_head, _source_checkpoint, extends_head = _heads(conn)
    return bool(extends_head) and head == checkpoint == source_head


def _heads(conn: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    row = first_row(conn.execute(query("generation_heads"), {"checkpoint": CHECKPOINT}))
    assert row is not None
    return row


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
