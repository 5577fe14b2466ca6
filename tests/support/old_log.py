"""The log an earlier version wrote (tests/fixtures/logs/night-2026-12), loaded into a warehouse whose
schema this version's migrations made: shared by the old-log replay and publication-format tests."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.core.paths import WarehousePaths
from pipelines.store.event_store import LOG_TABLES, EventStore

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "logs" / "night-2026-12"


def load_fixture_log(paths: WarehousePaths) -> duckdb.DuckDBPyConnection:
    """Create the warehouse and copy the fixture's log tables into it; the open connection is returned
    for what the caller does next (rebuilds, checks) and is the caller's to close."""
    with EventStore.open_writer(paths):
        pass
    conn = duckdb.connect(str(paths.database))
    for table in LOG_TABLES:
        conn.execute(f"INSERT INTO {table} SELECT * FROM read_parquet('{FIXTURE / 'log' / table}.parquet')")
    return conn
