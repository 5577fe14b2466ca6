"""Altering, deleting or reordering any stored event - or an archived file - is detected and located."""

from __future__ import annotations

import os
import random
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from pipelines.cli.main import main
from pipelines.core.paths import WarehousePaths
from pipelines.ingestion.ingest import ingest_paths
from pipelines.store.event_store import verify_connection

pytestmark = pytest.mark.xdist_group("drills")  # one worker, one memo of gate outcomes
TRIALS = 24
Tamper = Callable[[duckdb.DuckDBPyConnection, random.Random, list[tuple[int, str]]], int]


@pytest.fixture(scope="module")
def original(
    election_files: list[Path], later_files: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> WarehousePaths:
    warehouse = tmp_path_factory.mktemp("original") / "warehouse"
    ingest_paths(election_files, warehouse=warehouse)
    ingest_paths(later_files, warehouse=warehouse)
    paths = WarehousePaths(warehouse)
    with duckdb.connect(str(paths.database), read_only=True) as conn:
        assert verify_connection(conn, paths).intact
    return paths


def _alter_event(conn: duckdb.DuckDBPyConnection, rng: random.Random, events: list[tuple[int, str]]) -> int:
    position, _ = rng.choice(events)
    column, change = rng.choice(
        [
            ("payload", "payload || ' '"),
            ("payload", "replace(payload, '\"', '''')"),
            ("event_type", "event_type || 'x'"),
            ("occurred_at", "occurred_at + INTERVAL 1 MICROSECOND"),
            ("stream_id", "stream_id || '-'"),
            ("stream_version", "stream_version + 1000"),
            ("election_id", "'other-election'"),
            ("prev_hash", "sha256(prev_hash)"),
            ("event_hash", "sha256(event_hash)"),
        ]
    )
    conn.execute(f"UPDATE events SET {column} = {change} WHERE position = ?", [position])
    return position


def _alter_figures(conn: duckdb.DuckDBPyConnection, rng: random.Random, events: list[tuple[int, str]]) -> int:
    table, change = rng.choice(
        [
            ("protocol_votes", "votes = votes + 1"),
            ("protocol_facts", "ballots_cast = ballots_cast - 1"),
            ("protocol_facts", "region_id = 'elsewhere'"),
            ("declared_precincts", "registered_voters = registered_voters + 100"),
        ]
    )
    positions = [r[0] for r in conn.execute(f"SELECT DISTINCT position FROM {table} ORDER BY 1").fetchall()]
    position = int(rng.choice(positions))
    key = "list_id" if table == "protocol_votes" else "precinct_id"
    one = conn.execute(f"SELECT min({key}) FROM {table} WHERE position = ?", [position]).fetchall()[0][0]
    conn.execute(f"UPDATE {table} SET {change} WHERE position = ? AND {key} = ?", [position, one])
    return position


def _delete(conn: duckdb.DuckDBPyConnection, rng: random.Random, events: list[tuple[int, str]]) -> int:
    # The newest event has its own drill below: here one with a successor is deleted.
    position, _ = rng.choice(events[:-1])
    conn.execute("DELETE FROM events WHERE position = ?", [position])
    if rng.random() < 0.5:  # a careful forger removes the event's figures too
        for table in ("protocol_facts", "protocol_votes", "declared_precincts"):
            conn.execute(f"DELETE FROM {table} WHERE position = ?", [position])
    return position + 1  # the chain breaks at the event that followed it


def _reorder(conn: duckdb.DuckDBPyConnection, rng: random.Random, events: list[tuple[int, str]]) -> int:
    (a, _), (b, _) = sorted(rng.sample(events, 2))
    tables = ["events"]
    if rng.random() < 0.5:  # move the figures along with their events
        tables += ["protocol_facts", "protocol_votes", "declared_precincts"]
    for table in tables:
        conn.execute(f"UPDATE {table} SET position = -1 WHERE position = ?", [a])
        conn.execute(f"UPDATE {table} SET position = ? WHERE position = ?", [a, b])
        conn.execute(f"UPDATE {table} SET position = ? WHERE position = -1", [b])
    return a


TAMPERS: tuple[Tamper, ...] = (_alter_event, _alter_figures, _delete, _reorder)


def _copy_database(paths: WarehousePaths, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(paths.database, target)
    return target


def test_random_tampering_is_detected_at_the_right_position(original: WarehousePaths, tmp_path: Path) -> None:
    with duckdb.connect(str(original.database), read_only=True) as conn:
        events = [
            (int(p), str(t))
            for p, t in conn.execute("SELECT position, event_type FROM events ORDER BY 1").fetchall()
        ]
    for trial in range(TRIALS):
        rng = random.Random(f"tamper-drill-{trial}")
        tamper = TAMPERS[trial % len(TAMPERS)]
        database = _copy_database(original, tmp_path / f"trial-{trial}.duckdb")
        with duckdb.connect(str(database)) as conn:
            expected = tamper(conn, rng, events)
            report = verify_connection(conn, original)
        assert not report.intact, f"trial {trial} ({tamper.__name__}) went unnoticed"
        assert report.first_bad_position == expected, f"trial {trial} ({tamper.__name__}): {report}"
        database.unlink()


def _copy_warehouse(paths: WarehousePaths, target: Path) -> WarehousePaths:
    # The readers' snapshot plays no part in verify: leave it out.
    shutil.copytree(paths.root, target, ignore=shutil.ignore_patterns("snapshot"))
    return WarehousePaths(target)


def test_elections_verify_names_the_altered_event(
    original: WarehousePaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = _copy_warehouse(original, tmp_path / "copy")
    assert main(["verify", "--warehouse", str(copy.root)]) == 0
    with duckdb.connect(str(copy.database)) as conn:
        position = _alter_event(conn, random.Random("cli"), [(5, "")])
    capsys.readouterr()
    assert main(["verify", "--warehouse", str(copy.root)]) == 1
    assert f"TAMPERED at position {position}:" in capsys.readouterr().out


def test_an_altered_archived_file_is_detected(original: WarehousePaths, tmp_path: Path) -> None:
    copy = _copy_warehouse(original, tmp_path / "copy")
    with duckdb.connect(str(copy.database), read_only=True) as conn:
        position, batch = conn.execute(
            "SELECT position, batch_id FROM events WHERE event_type = 'BatchReceived' ORDER BY position DESC"
        ).fetchall()[1]
    archived = copy.archive / batch[:2] / batch
    os.chmod(archived, stat.S_IRUSR | stat.S_IWUSR)
    archived.write_bytes(archived.read_bytes().replace(b"1", b"7", 1))
    with duckdb.connect(str(copy.database), read_only=True) as conn:
        report = verify_connection(conn, copy)
    assert (report.intact, report.first_bad_position) == (False, position)


def test_deleting_the_newest_event_is_detected(original: WarehousePaths, tmp_path: Path) -> None:
    """A hash chain alone cannot see its tail cut off; the raw archive's receipts and the publication
    folders still remember what the log held."""
    database = _copy_database(original, tmp_path / "truncated.duckdb")
    with duckdb.connect(str(database)) as conn:
        newest, kind = conn.execute(
            "SELECT position, event_type FROM events ORDER BY 1 DESC LIMIT 1"
        ).fetchall()[0]
        conn.execute("DELETE FROM events WHERE position = ?", [newest])
        report = verify_connection(conn, original)
    assert not report.intact, f"deleting the newest event ({kind} at {newest}) went unnoticed"
