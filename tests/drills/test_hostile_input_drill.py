"""Hostile names and sizes: nothing escapes the inbox or archive, no other table moves, exports stay inert."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import duckdb
import pytest

from pipelines.cli.main import main
from pipelines.cli.output import render
from pipelines.core.paths import WarehousePaths
from pipelines.gate.intake import MAX_FILE_BYTES_ENV
from pipelines.ingestion.ingest import ingest_paths
from tests.drills.support import assert_store_sound, seat_table
from tests.support.small_election import declaration, precinct_ids, protocol, protocol_csv

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
LIST_NAMES = (
    "Robert'); DROP TABLE events; --",
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0",
    '@SUM(1+1) "quoted", with comma',
)
REGION_NAMES = ("'; DELETE FROM proj_precincts; --", "-2+3", "</td><script>alert(1)</script>")
FILE_NAMES = (
    "..\\..\\escape ; rm -rf ~.csv",
    "участок №1 ✓ $(touch pwned).csv",
    " -spaced  name ..csv",
)
PRECINCTS = 12
pytestmark = pytest.mark.xdist_group("drills")  # one worker, one memo of gate outcomes


def _hostile_declaration(folder: Path) -> Path:
    data = declaration(PRECINCTS)
    for item, name in zip(data["lists"], LIST_NAMES, strict=True):  # type: ignore[call-overload]
        item["name"] = name
    for item, name in zip(data["regions"], REGION_NAMES, strict=True):  # type: ignore[call-overload]
        item["name"] = name
    path = folder / "..\\élection ; DROP TABLE x.election.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _listing(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*")}


def _row_counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(WarehousePaths(warehouse).database), read_only=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        return {t: int(conn.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0]) for t in tables}


def _assert_no_formula(text: str, where: str) -> None:
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            assert not cell.startswith(FORMULA_PREFIXES), f"{where}: cell {cell!r} starts a formula"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A warehouse fed a hostile declaration and protocol files with hostile names; the sandbox around it."""
    sandbox = tmp_path_factory.mktemp("sandbox")
    inbox, warehouse = sandbox / "inbox", sandbox / "warehouse"
    inbox.mkdir()
    files = [_hostile_declaration(inbox)]
    rows = [protocol(pid, (300 + i, 120, 60 + i, 20)) for i, pid in enumerate(precinct_ids(PRECINCTS))]
    for k, name in enumerate(FILE_NAMES):
        path = inbox / name
        path.write_bytes(protocol_csv(rows[4 * k : 4 * k + 4]))
        files.append(path)
    summary = ingest_paths(files, warehouse=warehouse)
    assert [f.status for f in summary.files] == ["applied"] * len(files), summary.lines()
    return sandbox, warehouse


def test_hostile_names_stay_inside_the_warehouse_and_are_stored_verbatim(hostile: tuple[Path, Path]) -> None:
    sandbox, warehouse = hostile
    paths = WarehousePaths(warehouse)
    assert {p.parts[0] for p in _listing(sandbox)} == {"inbox", "warehouse"}
    assert _listing(sandbox / "inbox") == {Path(n) for n in FILE_NAMES} | {
        Path("..\\élection ; DROP TABLE x.election.json")
    }
    for path in paths.archive.rglob("*"):  # only content addresses and the receipts log
        assert path.is_dir() or path.name == "receipts.jsonl" or path.parent.name == path.name[:2], path
    for path in warehouse.rglob("*"):
        # The one link is the readers' snapshot, naming a generation beside it (docs/warehouse.md).
        linked = path == paths.snapshot and os.readlink(path) == path.resolve().name
        assert linked or not path.is_symlink(), path
        assert path.resolve().is_relative_to(warehouse.resolve()), path
    assert_store_sound(warehouse)
    with duckdb.connect(str(paths.database), read_only=True) as conn:
        lists = [r[0] for r in conn.execute("SELECT name FROM proj_lists ORDER BY ballot_order").fetchall()]
        regions = {r[0] for r in conn.execute("SELECT name FROM proj_regions").fetchall()}
        files = {r[0] for r in conn.execute("SELECT file_name FROM proj_batches").fetchall()}
        precincts = conn.execute("SELECT count(*) FROM proj_precincts").fetchall()[0][0]
    assert lists == list(LIST_NAMES) and regions == set(REGION_NAMES)
    assert set(FILE_NAMES) <= files and precincts == PRECINCTS


def test_exports_of_hostile_names_never_start_a_formula(
    hostile: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, warehouse = hostile
    assert main(["seats", "--format", "csv", "--warehouse", str(warehouse)]) == 0
    exported = capsys.readouterr().out
    _assert_no_formula(exported, "elections seats --format csv")
    names = [row["name"] for row in csv.DictReader(io.StringIO(exported))]
    assert [n.removeprefix("'") for n in names] == list(LIST_NAMES)  # only the apostrophe is added
    rows = [{"name": n, "region": r} for n, r in zip(LIST_NAMES, REGION_NAMES * 2, strict=False)]
    _assert_no_formula(render(rows, ("name", "region"), "csv"), "render")
    folders = [f for f in WarehousePaths(warehouse).publications.iterdir() if not f.name.startswith(".")]
    assert folders
    for folder in folders:
        for path in folder.iterdir():
            if path.suffix == ".csv":
                _assert_no_formula(path.read_text(encoding="utf-8"), str(path))
            if path.suffix == ".html":
                assert "<script>alert(1)</script>" not in path.read_text(encoding="utf-8"), path


def test_an_oversized_file_is_refused_whole_and_moves_nothing(
    hostile: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, warehouse = hostile
    monkeypatch.setenv(MAX_FILE_BYTES_ENV, str(64 * 1024))
    row = protocol("P001", (1, 1, 1, 1), version=2, reason="x" * 200)
    big = tmp_path / "huge.csv"
    big.write_bytes(protocol_csv([row] * 400))  # ~100 KB, above the lowered cap
    seats, before = seat_table(warehouse), _row_counts(warehouse)
    summary = ingest_paths([big], warehouse=warehouse)
    assert [f.status for f in summary.files] == ["quarantined"]
    assert "file_too_large" in summary.files[0].problems[0]
    after = _row_counts(warehouse)
    moved = {t for t in after if after[t] != before[t]}
    assert moved <= {"events", "proj_batches", "proj_quarantine", "projection_checkpoints"}, moved
    assert seat_table(warehouse) == seats
    assert_store_sound(warehouse)


def test_an_election_id_that_is_a_path_is_refused(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    data = declaration(PRECINCTS, election_id="../../escaped")
    path = inbox / "escape.election.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    summary = ingest_paths([path], warehouse=tmp_path / "warehouse")
    assert [f.status for f in summary.files] == ["quarantined"]
    assert {p.parts[0] for p in _listing(tmp_path)} == {"inbox", "warehouse"}
    assert not (tmp_path.parent / "escaped").exists()
