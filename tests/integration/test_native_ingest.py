"""An election declared and ingested from a commission's own files through a native layout unlike
protocol-v1 (Windows-1251, ';', a title line, thousands "1 520", composed precinct ids, ballots cast
derived as valid + invalid): seats, rows quarantined by name, a misfit refused before anything is
written, the commission's summary reconciled against the warehouse, and a replay that reads each file
with its journaled layout, not the file on disk (issue 18's first "done when")."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.cli.main import main
from pipelines.core.errors import EXIT_BAD_INPUT, EXIT_DIFFERENCES, EXIT_OK, EXIT_QUARANTINED
from pipelines.core.paths import REPO_ROOT, WarehousePaths
from pipelines.gate.native_layout import load_layout

# The worked example of docs/layouts.md, which the README's tour runs too: two cp1251 files with a
# decimal in a count (north.csv row 5), a cell that is no number (south.csv row 4) and a station whose
# lists and invalid ballots do not add up to its ballots cast (south.csv row 5).
EXAMPLE = REPO_ROOT / "examples" / "native"
LAYOUT = EXAMPLE / "commission-cp1251.yaml"
ELECTION = "native-demo"
LOG_COLUMNS = "position, stream_id, stream_version, event_type, occurred_at, recorded_at, payload, event_hash"


def cli(*args: str | Path) -> int:
    return main([str(a) for a in args])


def native_file(path: Path, example: str, encoding: str = "cp1251") -> Path:
    """The example file, copied (re-encoded to `encoding`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((EXAMPLE / example).read_bytes().decode("cp1251").encode(encoding))
    return path


def log_rows(paths: WarehousePaths) -> list[tuple[object, ...]]:
    with duckdb.connect(str(paths.database), read_only=True) as conn:
        return conn.execute(f"SELECT {LOG_COLUMNS} FROM events ORDER BY position").fetchall()


def query(paths: WarehousePaths, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(paths.database), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_declare_and_ingest_native_files_then_replay_with_the_layout_edited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = WarehousePaths(tmp_path / "warehouse")
    layout = tmp_path / "layouts" / "commission.yaml"
    layout.parent.mkdir()
    shutil.copyfile(LAYOUT, layout)
    shutil.copyfile(EXAMPLE / "rules.yaml", tmp_path / "rules.yaml")
    north = native_file(tmp_path / "in" / "north.csv", "north.csv")
    south = native_file(tmp_path / "in" / "south.csv", "south.csv")
    where = ("--warehouse", paths.root)

    assert cli("declare", north, south, "--layout", layout, "--rules", tmp_path / "rules.yaml",
               "--election", ELECTION, "--name", "Native demo", *where) == EXIT_OK  # fmt: skip
    assert query(paths, "SELECT list_id, name, ballot_order FROM proj_lists ORDER BY ballot_order") == [
        ("zarya", "Партия «Заря»", 1),
        ("narodny", "Народный союз", 2),
        ("zelenye_party", "Zelenye Party", 3),
    ]
    declared = query(paths, "SELECT precinct_id, region_id, registered_voters FROM declared_precincts")
    assert len(declared) == 6
    assert sorted(declared)[:2] == [("01-3-0001", "01", 1520), ("01-3-0002", "01", 2100)]
    capsys.readouterr()

    # A layout that does not fit (the same rows, UTF-8): refused before anything is written.
    misfit = native_file(tmp_path / "misfit" / "utf8.csv", "south.csv", encoding="utf-8")
    head = log_rows(paths)
    receipts = paths.archive.joinpath("receipts.jsonl").read_bytes()
    assert cli("ingest", north, misfit, "--layout", layout, "--election", ELECTION, *where) == EXIT_BAD_INPUT
    refusal = capsys.readouterr().err.strip()
    assert refusal.startswith("error: file utf8.csv: layout commission-cp1251"), refusal
    assert "does not fit this file" in refusal and "[rule: wrong_encoding]" in refusal, refusal
    assert len(refusal.splitlines()) == 1
    assert log_rows(paths) == head
    assert paths.archive.joinpath("receipts.jsonl").read_bytes() == receipts

    assert cli("ingest", north, south, "--layout", layout, "--election", ELECTION, *where) == EXIT_QUARANTINED
    printed = capsys.readouterr().out
    assert "north.csv row 5 column 'Партия «Заря»'" in printed and "[value: '1,5']" in printed, printed
    quarantined = query(
        paths,
        "SELECT file_name, row_number, column_name, rule, value FROM proj_quarantine "
        "ORDER BY file_name, row_number",
    )
    assert quarantined == [
        ("north.csv", 5, "Партия «Заря»", "decimal_count", "1,5"),
        ("south.csv", 4, "Действительные", "not_a_whole_number", "n/a"),
        ("south.csv", 5, "ballots_cast", "does_not_add_up", "700"),
    ]
    seats = query(paths, "SELECT list_id, votes, seats FROM proj_seat_table ORDER BY ballot_order")
    assert seats == [("zarya", 2100, 5), ("narodny", 1800, 4), ("zelenye_party", 562, 1)]
    # An observer checks the commission's summary (typed by hand: names, spaced digits) against the
    # warehouse built from the stations' own protocols: the quarantined rows are not counted.
    summary = tmp_path / "official.csv"
    shutil.copyfile(EXAMPLE / "summary.csv", summary)
    assert cli("reconcile", summary, "--election", ELECTION, *where) == EXIT_OK
    assert "all 17 figures agree" in capsys.readouterr().out
    published = summary.read_text(encoding="utf-8")
    summary.write_text(
        published.replace("region,Южная область,ballots_cast,,2 000", "region,02,ballots_cast,,2 700")
    )
    assert cli("reconcile", summary, "--election", ELECTION, *where) == EXIT_DIFFERENCES
    differences = capsys.readouterr().out
    assert "2700" in differences and "2000" in differences and "1 of 17 figures differ" in differences
    # The log says which layout read each native file: its content and SHA-256 in the file's receipt.
    noted = query(
        paths,
        "SELECT payload->>'file_name', payload->>'layout_sha256', payload->'layout'->>'encoding' FROM events "
        "WHERE event_type = 'BatchReceived' AND payload->>'file_name' LIKE '%.csv' ORDER BY position",
    )
    sha256 = load_layout(str(layout)).sha256
    assert noted == [("north.csv", sha256, "cp1251"), ("south.csv", sha256, "cp1251")]
    # Every native file is archived as received, byte for byte.
    archived = {p.read_bytes() for p in paths.archive.rglob("*") if p.is_file()}
    assert north.read_bytes() in archived and south.read_bytes() in archived

    # The layout edited on disk after ingestion changes nothing a replay computes.
    layout.write_text(
        layout.read_text(encoding="utf-8").replace('thousands_separator: " "', "thousands_separator: null")
    )
    again = WarehousePaths(tmp_path / "again")
    assert cli("replay", again.root, *where) == EXIT_OK
    assert log_rows(again) == log_rows(paths)
