"""A log written by an earlier version (tests/fixtures/logs/night-2026-12: made on main before events
were typed, every event type in it) still reads, verifies, rebuilds and replays with this version:
every stored payload reads as its typed event and serializes back to the same bytes, the chain
verifies, the rebuilt projections give the seats that version gave, and a replay of its input
journal makes the same log, every hash included."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.core.paths import WarehousePaths
from pipelines.domain.events import StoredEvent, canonical_json
from pipelines.ingestion.replay import replay_archive
from pipelines.publishing.seat_table import allocate_totals, national_totals
from pipelines.store.election_rules import rules_in_force
from pipelines.store.event_codec import deserialize, serialize
from pipelines.store.event_store import verify_connection
from pipelines.store.projections import rebuild_projections
from tests.support.old_log import FIXTURE, load_fixture_log

ROW_ORDER = {  # each log table's rows in one order, to compare tables row for row
    "events": "position",
    "protocol_facts": "position",
    "protocol_votes": "position, list_id",
    "declared_precincts": "position, precinct_id",
    "oe_results": "position, line",
    "oe_pseudo_rows": "position, line",
}
EXPECTED: dict[str, Any] = json.loads((FIXTURE / "expected.json").read_text())


def fixture_rows(table: str) -> list[tuple[Any, ...]]:
    with duckdb.connect() as conn:
        path = FIXTURE / "log" / f"{table}.parquet"
        return conn.execute(f"SELECT * FROM read_parquet('{path}') ORDER BY {ROW_ORDER[table]}").fetchall()


def log_rows(database: Path, table: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(database), read_only=True) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY {ROW_ORDER[table]}").fetchall()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> WarehousePaths:
    """The old log's tables in a warehouse whose schema this version's migrations made."""
    paths = WarehousePaths(tmp_path_factory.mktemp("old-log") / "warehouse")
    load_fixture_log(paths).close()
    return paths


def test_every_old_event_reads_as_its_typed_class_and_serializes_to_the_same_bytes() -> None:
    rows = fixture_rows("events")
    types = set()
    for r in rows:
        stored = StoredEvent(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], json.loads(r[8]), r[9], r[10])
        event = deserialize(stored)
        types.add(type(event).__name__)
        again = serialize(event)
        assert canonical_json(again.payload) == r[8], f"event {r[0]} ({r[3]})"
        assert (again.stream_id, again.event_type, again.election_id, again.occurred_at, again.batch_id) == (
            r[1],
            r[3],
            r[4],
            r[5],
            r[7],
        )
    assert len(types) == 14  # every event type of the vocabulary is in the fixture


def test_the_old_log_verifies_rebuilds_and_gives_the_seats_it_gave(loaded: WarehousePaths) -> None:
    with duckdb.connect(str(loaded.database)) as conn:
        report = verify_connection(conn)
        assert report.intact, report.problem
        head = conn.execute(
            "SELECT position, event_hash FROM events ORDER BY position DESC LIMIT 1"
        ).fetchone()
        assert head == (EXPECTED["head"]["position"], EXPECTED["head"]["event_hash"])
        conn.execute("BEGIN TRANSACTION")
        rebuild_projections(conn)
        conn.execute("COMMIT")
        rules = rules_in_force(conn, EXPECTED["election_id"])
        allocation = allocate_totals(national_totals(conn, EXPECTED["election_id"]), rules.profile)
    assert rules.sha256 == EXPECTED["rules_sha256"]
    assert {r.list_id: r.seats for r in allocation.rows} == EXPECTED["seats"]


@pytest.mark.slow
def test_a_replay_of_the_old_journal_makes_the_same_log_every_hash_included(tmp_path: Path) -> None:
    source = WarehousePaths(tmp_path / "source")
    shutil.copytree(FIXTURE / "archive", source.archive)
    target = tmp_path / "replayed"
    replay_archive(source, target)
    for table in ROW_ORDER:
        assert log_rows(WarehousePaths(target).database, table) == fixture_rows(table), table
