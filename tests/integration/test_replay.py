"""Replaying the raw archive rebuilds the same state, also as it stood at an earlier moment."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.core.paths import WarehousePaths
from pipelines.ingestion.ingest import ingest_paths
from pipelines.ingestion.replay import replay_archive
from pipelines.store.projections import projection_checksums
from tests.support.small_election import (
    expected_totals,
    precinct_ids,
    protocol,
    write_declaration,
    write_protocols,
)

EVENING = datetime(2021, 1, 10, 21, 0)
LATE = datetime(2021, 1, 10, 23, 30)


def checksums(warehouse: Path) -> dict[str, str]:
    with duckdb.connect(str(WarehousePaths(warehouse).snapshot), read_only=True) as conn:
        return projection_checksums(conn)


def list_votes(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(WarehousePaths(warehouse).snapshot), read_only=True) as conn:
        rows = conn.execute("SELECT list_id, sum(votes) FROM proj_precinct_votes GROUP BY list_id").fetchall()
    return {str(k): int(v) for k, v in rows}


def test_replay_gives_the_same_projections_and_can_stop_at_a_moment(tmp_path: Path) -> None:
    rows = [protocol(pid, (300 + i, 120, 80 - i, 25)) for i, pid in enumerate(precinct_ids(8))]
    original = tmp_path / "original"
    early = [write_declaration(tmp_path / "in"), write_protocols(tmp_path / "in", "evening.csv", rows[:5])]
    ingest_paths(early, warehouse=original, received_at=EVENING)
    amended = protocol("P001", (250, 170, 79, 25), version=2, reason="recount")
    late = [write_protocols(tmp_path / "in2", "late.csv", [*rows[5:], amended])]
    ingest_paths(late, warehouse=original, received_at=LATE)

    full = replay_archive(WarehousePaths(original), tmp_path / "replay-full")
    assert [f.status for f in full.files] == ["applied", "applied", "applied"]
    assert checksums(tmp_path / "replay-full") == checksums(original)

    at_22 = replay_archive(
        WarehousePaths(original), tmp_path / "replay-22h", until=datetime(2021, 1, 10, 22, 0)
    )
    assert len(at_22.files) == 2
    assert list_votes(tmp_path / "replay-22h") == expected_totals(rows[:5])
    again = replay_archive(
        WarehousePaths(original), tmp_path / "replay-22h-again", until=datetime(2021, 1, 10, 22)
    )
    assert len(again.files) == 2
    assert checksums(tmp_path / "replay-22h-again") == checksums(tmp_path / "replay-22h")
