"""The six shipped Mazhilis elections, loaded through the full ingestion path, give the official seats."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from pipelines.core.paths import SCHEMAS_DIR, WarehousePaths
from pipelines.ingestion.ingest import IngestSummary, ingest_paths
from pipelines.synthetic.history import list_elections, write_history_files

OFFICIAL = SCHEMAS_DIR / "history" / "kz_mazhilis_results.csv"


def official_seats() -> dict[str, dict[str, int]]:
    seats: dict[str, dict[str, int]] = {}
    with OFFICIAL.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            seats.setdefault(row["election_id"], {})[row["party_lineage"]] = int(row["official_list_seats"])
    return seats


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, IngestSummary]:
    folder = tmp_path_factory.mktemp("history")
    paths = [
        path
        for election in list_elections()
        for path in write_history_files(election.election_id, folder / election.election_id, by_region=False)
    ]
    warehouse = folder / "warehouse"
    return warehouse, ingest_paths(paths, warehouse=warehouse)


def test_all_six_elections_ship_and_load_without_quarantine(loaded: tuple[Path, IngestSummary]) -> None:
    _, summary = loaded
    assert {e.election_id for e in list_elections()} == set(official_seats())
    assert len(summary.publications) == 6
    assert all(f.status == "applied" and f.rows_quarantined == 0 for f in summary.files)


def test_each_election_reproduces_its_official_list_seats(loaded: tuple[Path, IngestSummary]) -> None:
    warehouse, _ = loaded
    with duckdb.connect(str(WarehousePaths(warehouse).snapshot), read_only=True) as conn:
        rows = conn.execute("SELECT election_id, list_id, seats FROM proj_seat_table").fetchall()
    published: dict[str, dict[str, int]] = {}
    for election_id, list_id, seats in rows:
        published.setdefault(election_id, {})[list_id] = seats
    assert published == official_seats()
