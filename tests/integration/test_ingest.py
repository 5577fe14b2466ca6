"""Ingestion through the real path (raw archive, GX validation, DuckDB events, projections)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.core.paths import WarehousePaths
from pipelines.ingestion.ingest import IngestSummary, ingest_paths
from pipelines.publishing.seat_table import national_totals, resolve_as_of
from pipelines.store.event_store import EventStore
from pipelines.store.projections import projection_checksums, rebuild_projections
from tests.support.small_election import (
    ELECTION_ID,
    LISTS,
    expected_totals,
    precinct_ids,
    protocol,
    write_annulment,
    write_declaration,
    write_protocols,
)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse"


def ingest(warehouse: Path, *paths: Path) -> IngestSummary:
    return ingest_paths(list(paths), warehouse=warehouse)


def totals(warehouse: Path, as_of: int | None = None) -> dict[str, int]:
    with duckdb.connect(str(WarehousePaths(warehouse).snapshot), read_only=True) as conn:
        found = national_totals(conn, ELECTION_ID, as_of=as_of)
    return {lv.list_id: lv.votes for lv in found.list_votes}


def scalar(warehouse: Path, sql: str) -> object:
    with duckdb.connect(str(WarehousePaths(warehouse).snapshot), read_only=True) as conn:
        return conn.execute(sql).fetchall()[0][0]


def test_totals_equal_the_sum_of_accepted_protocols_and_seats_are_published(
    tmp_path: Path, warehouse: Path
) -> None:
    rows = [protocol(pid, (300 + i, 100 + 2 * i, 50 + i, 10)) for i, pid in enumerate(precinct_ids())]
    summary = ingest(
        warehouse,
        write_declaration(tmp_path / "in"),
        write_protocols(tmp_path / "in", "a.csv", rows[:6]),
        write_protocols(tmp_path / "in", "b.csv", rows[6:]),
    )
    assert summary.count("applied") == 3
    assert totals(warehouse) == expected_totals(rows)
    assert len(summary.publications) == 1
    seats = scalar(warehouse, "SELECT sum(seats) FROM proj_seat_table")
    assert seats == 98
    delta_seats = scalar(warehouse, "SELECT seats FROM proj_seat_table WHERE list_id = 'delta'")
    assert delta_seats == 0  # 10 of ~520 votes per precinct: below the 7% threshold


def test_the_same_file_or_protocol_again_adds_no_event(tmp_path: Path, warehouse: Path) -> None:
    rows = [protocol(pid) for pid in precinct_ids(4)]
    first = write_protocols(tmp_path / "in", "first.csv", rows)
    ingest(warehouse, write_declaration(tmp_path / "in"), first)
    events_before = scalar(warehouse, "SELECT count(*) FROM events")
    copy = write_protocols(tmp_path / "again", "renamed-copy.csv", rows)
    reordered = write_protocols(tmp_path / "again", "reordered.csv", list(reversed(rows)))
    summary = ingest(warehouse, copy, reordered)
    assert [f.status for f in summary.files] == ["duplicate", "duplicate"]
    assert summary.files[1].rows_duplicate == 4
    # The reordered file is new bytes, so it is received (one event) but applies nothing.
    assert scalar(warehouse, "SELECT count(*) FROM events") == int(str(events_before)) + 1
    assert summary.publications == []


def test_a_different_protocol_for_a_reported_precinct_is_quarantined_as_a_conflict(
    tmp_path: Path, warehouse: Path
) -> None:
    original = [protocol(pid) for pid in precinct_ids(3)]
    ingest(warehouse, write_declaration(tmp_path / "in"), write_protocols(tmp_path / "in", "a.csv", original))
    conflicting = protocol("P002", (390, 110, 60, 20))
    summary = ingest(warehouse, write_protocols(tmp_path / "in", "b.csv", [conflicting]))
    assert summary.files[0].status == "quarantined"
    assert "conflict" in summary.files[0].problems[0] and "b.csv row 2" in summary.files[0].problems[0]
    assert totals(warehouse) == expected_totals(original)
    assert scalar(warehouse, "SELECT rule FROM proj_quarantine") == "conflict"


def test_an_amendment_supersedes_and_the_earlier_version_stays_in_the_log(
    tmp_path: Path, warehouse: Path
) -> None:
    original = [protocol(pid) for pid in precinct_ids(3)]
    ingest(warehouse, write_declaration(tmp_path / "in"), write_protocols(tmp_path / "in", "a.csv", original))
    position_before = scalar(warehouse, "SELECT max(position) FROM events")
    amended = protocol("P001", (350, 150, 60, 20), version=2, reason="recount ordered by the TEC")
    summary = ingest(warehouse, write_protocols(tmp_path / "in", "amend.csv", [amended]))
    assert summary.files[0].rows_applied == 1
    assert totals(warehouse) == expected_totals([amended, *original[1:]])
    assert totals(warehouse, as_of=int(str(position_before))) == expected_totals(original)
    assert scalar(warehouse, "SELECT count(*) FROM protocol_facts WHERE precinct_id = 'P001'") == 2
    assert scalar(warehouse, "SELECT event_type FROM events ORDER BY position DESC LIMIT 1 OFFSET 1") == (
        "ProtocolAmended"
    )


def test_an_annulled_precinct_leaves_the_totals_and_later_protocols_are_refused(
    tmp_path: Path, warehouse: Path
) -> None:
    rows = [protocol(pid) for pid in precinct_ids(3)]
    ingest(warehouse, write_declaration(tmp_path / "in"), write_protocols(tmp_path / "in", "a.csv", rows))
    ingest(warehouse, write_annulment(tmp_path / "in", "annul.csv", "P003"))
    assert totals(warehouse) == expected_totals(rows[:2])
    late = protocol("P003", (100, 100, 100, 100), version=2, reason="late")
    summary = ingest(warehouse, write_protocols(tmp_path / "in", "late.csv", [late]))
    assert summary.files[0].status == "quarantined"
    assert "annulled" in summary.files[0].problems[0]
    assert totals(warehouse) == expected_totals(rows[:2])


def test_a_file_before_its_declaration_is_refused_then_accepted_once_declared(
    tmp_path: Path, warehouse: Path
) -> None:
    rows = [protocol(pid) for pid in precinct_ids(2)]
    early = write_protocols(tmp_path / "in", "early.csv", rows)
    first = ingest(warehouse, early)
    assert first.files[0].status == "quarantined"
    assert "not declared" in first.files[0].problems[0]
    second = ingest(warehouse, write_declaration(tmp_path / "decl"), early)
    assert [f.status for f in second.files] == ["applied", "applied"]
    assert totals(warehouse) == expected_totals(rows)


def test_bad_rows_never_reach_the_totals_and_good_rows_of_the_file_do(
    tmp_path: Path, warehouse: Path
) -> None:
    good = [protocol(pid) for pid in precinct_ids(3)]
    bad = protocol("P004")
    bad["alpha"] = int(str(bad["alpha"])) + 5  # no longer adds up to ballots cast
    summary = ingest(
        warehouse,
        write_declaration(tmp_path / "in"),
        write_protocols(tmp_path / "in", "mixed.csv", [*good, bad]),
    )
    outcome = summary.files[1]
    assert outcome.status == "partly quarantined"
    assert (outcome.rows_applied, outcome.rows_quarantined) == (3, 1)
    assert "mixed.csv row 5" in outcome.problems[0]
    assert totals(warehouse) == expected_totals(good)
    assert scalar(warehouse, "SELECT count(*) FROM proj_quarantine WHERE precinct_id = 'P004'") == 1


def test_as_of_a_timestamp_and_rebuild_equal_to_incremental(tmp_path: Path, warehouse: Path) -> None:
    rows = [protocol(pid) for pid in precinct_ids(6)]
    ingest(warehouse, write_declaration(tmp_path / "in"), write_protocols(tmp_path / "in", "a.csv", rows[:3]))
    ingest(warehouse, write_protocols(tmp_path / "in", "b.csv", rows[3:]))
    with duckdb.connect(str(WarehousePaths(warehouse).snapshot), read_only=True) as conn:
        first_file_time = conn.execute(
            "SELECT received_at FROM proj_batches WHERE file_name = 'a.csv'"
        ).fetchall()[0][0]
        at_first = resolve_as_of(conn, first_file_time.isoformat())
    assert totals(warehouse, as_of=at_first) == expected_totals(rows[:3])
    head = int(str(scalar(warehouse, "SELECT max(position) FROM events")))
    assert totals(warehouse, as_of=head) == totals(warehouse) == expected_totals(rows)
    with EventStore.open_writer(WarehousePaths(warehouse)) as store:
        incremental = projection_checksums(store.conn)
        with store.transaction():
            rebuild_projections(store.conn)
        assert projection_checksums(store.conn) == incremental
        assert store.verify(WarehousePaths(warehouse)).intact


def test_every_received_file_is_archived_read_only_even_when_refused(tmp_path: Path, warehouse: Path) -> None:
    garbage = tmp_path / "in" / "garbage.csv"
    garbage.parent.mkdir(parents=True)
    garbage.write_bytes(b"\x00\x01\x02 not a protocol")
    ingest(warehouse, write_declaration(tmp_path / "in"), garbage)
    archive = WarehousePaths(warehouse).archive
    stored = [p for p in archive.rglob("*") if p.is_file() and p.name != "receipts.jsonl"]
    assert any(p.read_bytes() == garbage.read_bytes() for p in stored)
    assert all(p.stat().st_mode & 0o222 == 0 for p in stored)
    assert scalar(warehouse, "SELECT count(*) FROM proj_quarantine WHERE file_name = 'garbage.csv'") == 1
    assert set(LISTS) == set(totals(warehouse))


def test_a_second_declaration_of_an_election_is_refused(tmp_path: Path, warehouse: Path) -> None:
    ingest(warehouse, write_declaration(tmp_path / "in"))
    changed = write_declaration(tmp_path / "again", 5)  # different precincts, same election id
    summary = ingest(warehouse, changed)
    assert summary.files[0].status == "quarantined"
    assert "already declared" in summary.files[0].problems[0]
    assert scalar(warehouse, "SELECT count(*) FROM proj_precincts") == 12


def test_a_quarantined_row_resubmitted_corrected_counts_once(tmp_path: Path, warehouse: Path) -> None:
    good = [protocol(pid) for pid in precinct_ids(3)]
    bad = protocol("P004")
    bad["alpha"] = int(str(bad["alpha"])) + 5
    ingest(
        warehouse,
        write_declaration(tmp_path / "in"),
        write_protocols(tmp_path / "in", "night.csv", [*good, bad]),
    )
    corrected = protocol("P004")
    first = ingest(warehouse, write_protocols(tmp_path / "fix", "P004-corrected.csv", [corrected]))
    again = ingest(
        warehouse, write_protocols(tmp_path / "fix2", "P004-corrected-again.csv", [corrected, good[0]])
    )
    assert first.files[0].rows_applied == 1
    assert (again.files[0].rows_applied, again.files[0].rows_duplicate) == (0, 2)
    assert totals(warehouse) == expected_totals([*good, corrected])
