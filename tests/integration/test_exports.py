"""Exports people open: the precinct results in the OpenElections layout (CSV and Parquet) and the
workbook, written into publication folders through the real ingestion path and `publish --precincts`,
with region and list names a spreadsheet would otherwise turn into dates, numbers and formulas."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import stat
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from pipelines.cli.main import main
from pipelines.core.errors import EXIT_FAILURE, EXIT_OK
from pipelines.core.paths import WarehousePaths
from pipelines.gate.openelections import parse_openelections_text
from pipelines.ingestion.ingest import ingest_paths
from pipelines.publishing.publication_layout import (
    MANIFEST,
    NATIONAL_CSV,
    NATIONAL_JSON,
    PRECINCTS_CSV,
    PRECINCTS_PARQUET,
    REGIONAL_CSV,
    SEATS_CSV,
    WORKBOOK,
)
from pipelines.publishing.spreadsheet_safe import from_spreadsheet_cell
from tests.support.small_election import (
    LISTS,
    declaration,
    precinct_ids,
    protocol,
    write_annulment,
    write_protocols,
)

REGION_NAMES = {"north": "03", "south": "=1+1", "east": "5/9"}  # an id, a formula, a date
LIST_NAMES = {"alpha": "1-2", "beta": "TRUE", "gamma": "Gamma 2021", "delta": "@delta"}
ANNULLED = "P004"


def _cli(*args: str) -> int:
    return main(list(args))


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("exports")
    inbox, warehouse = base / "inbox", base / "warehouse"
    inbox.mkdir()
    data: dict[str, Any] = declaration(12)
    for item in data["regions"]:
        item["name"] = REGION_NAMES[item["region_id"]]
    for item in data["lists"]:
        item["name"] = LIST_NAMES[item["list_id"]]
    decl = inbox / "test-mazhilis.election.json"
    decl.write_text(json.dumps(data), encoding="utf-8")
    ids = precinct_ids(12)
    rows = [protocol(pid, (400 + i, 100 + 3 * i, 60 - i, 20 + i)) for i, pid in enumerate(ids)]
    ingest_paths([decl, write_protocols(inbox, "first.csv", rows[:8])], warehouse=warehouse)
    ingest_paths([write_annulment(inbox, "annul.csv", ANNULLED)], warehouse=warehouse, publish_results=False)
    ingest_paths([write_protocols(inbox, "more.csv", rows[8:10])], warehouse=warehouse, publish_results=False)
    assert _cli("publish", "--precincts", "--warehouse", str(warehouse)) == EXIT_OK
    return warehouse


def folders(warehouse: Path) -> list[Path]:
    return sorted(
        (p for p in WarehousePaths(warehouse).publications.iterdir() if not p.name.startswith(".")),
        key=lambda p: p.name,
    )


def with_precincts(warehouse: Path) -> Path:
    (folder,) = [f for f in folders(warehouse) if (f / PRECINCTS_CSV).exists()]
    return folder


def csv_rows(path: Path) -> list[list[str]]:
    return [
        [from_spreadsheet_cell(c) for c in row]
        for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline=""))
    ]


def as_csv_text(value: object) -> str:
    """A workbook cell as the CSV beside it writes it (after the CSV's apostrophe is dropped)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def test_every_folder_has_a_workbook_and_the_precinct_files_come_with_precincts(warehouse: Path) -> None:
    assert len(folders(warehouse)) == 2
    for folder in folders(warehouse):
        listed = json.loads((folder / MANIFEST).read_bytes())["files"]
        assert WORKBOOK in listed
        precincts = folder == with_precincts(warehouse)
        assert (PRECINCTS_CSV in listed) == (PRECINCTS_PARQUET in listed) == precincts
        sheets = load_workbook(folder / WORKBOOK, read_only=True).sheetnames
        expected = ["seats", "national", "regions", *(["precincts"] if precincts else []), "publication"]
        assert sheets == expected


def test_the_workbook_opens_and_its_numbers_equal_the_csvs(warehouse: Path) -> None:
    folder = with_precincts(warehouse)
    book = load_workbook(folder / WORKBOOK)
    for sheet_name, csv_name in (("seats", SEATS_CSV), ("national", NATIONAL_CSV), ("regions", REGIONAL_CSV)):
        sheet = book[sheet_name]
        assert sheet.freeze_panes == "A2"
        rows = list(sheet.iter_rows(values_only=True))
        expected = csv_rows(folder / csv_name)
        assert len(rows) == len(expected) > 1
        for cells, texts in zip(rows, expected, strict=True):
            for value, text in zip(cells, texts, strict=True):
                if isinstance(value, float):  # a decimal beside an exact fraction
                    assert value == float(text), (sheet_name, text)
                else:
                    assert as_csv_text(value) == text, (sheet_name, value, text)
    seats = list(book["seats"].iter_rows(values_only=True))
    header = seats[0]
    assert isinstance(seats[1][header.index("votes")], int)
    assert isinstance(seats[1][header.index("quota_exact")], str)  # exact 'p/q' as text, never a date
    assert isinstance(seats[1][header.index("passed_threshold")], bool)
    regions = {r[1]: r for r in book["regions"].iter_rows(min_row=2, values_only=True)}
    assert set(regions) == set(REGION_NAMES.values())  # '03', '=1+1', '5/9' stay text

    sheet = list(book["precincts"].iter_rows(values_only=True))
    columns = sheet[0]
    by_precinct: dict[str, dict[str, int]] = {}
    for county, precinct, office, _district, party, _candidate, votes in csv_rows(folder / PRECINCTS_CSV)[1:]:
        key = party or {"Registered Voters": "registered_voters", "Ballots Cast": "ballots_cast"}.get(
            office, "invalid_ballots"
        )
        by_precinct.setdefault(precinct, {})[key] = int(votes)
        assert county in REGION_NAMES.values()
    states = {}
    for row in sheet[1:]:
        record = dict(zip(columns, row, strict=True))
        states[record["precinct_id"]] = record["state"]
        if record["state"] == "reported":
            assert {k: record[k] for k in by_precinct[str(record["precinct_id"])]} == by_precinct[
                str(record["precinct_id"])
            ]
        else:
            assert record["ballots_cast"] is None and all(record[lid] is None for lid in LISTS)
    assert states[ANNULLED] == "annulled" and list(states.values()).count("pending") == 2
    assert set(by_precinct) == {p for p, s in states.items() if s == "reported"}


def test_the_precinct_results_read_back_as_openelections_and_add_up_to_the_national_totals(
    warehouse: Path,
) -> None:
    folder = with_precincts(warehouse)
    national = json.loads((folder / NATIONAL_JSON).read_bytes())["national"]
    parsed = parse_openelections_text((folder / PRECINCTS_CSV).read_text(encoding="utf-8"), file="x.csv")
    assert parsed.problems == ()
    votes: dict[str, int] = {}
    for row in parsed.rows:
        party = from_spreadsheet_cell(row.choice.party)
        votes[party] = votes.get(party, 0) + row.votes
    assert votes == {lid: national[lid] for lid in LISTS}
    pseudo: dict[str, int] = {}
    for p in parsed.pseudo_rows:
        pseudo[p.kind] = pseudo.get(p.kind, 0) + int(p.votes or 0)
    assert pseudo == {
        "registered_voters": national["registered_voters_counted"],
        "ballots_cast": national["ballots_cast"],
        "invalid_ballots": national["invalid_ballots"],
    }
    table = pq.read_table(folder / PRECINCTS_PARQUET)
    assert str(table.schema.field("votes").type) == "int64"
    as_csv = csv_rows(folder / PRECINCTS_CSV)
    assert table.column_names == as_csv[0]
    assert [[as_csv_text(v) for v in row.values()] for row in table.to_pylist()] == as_csv[1:]


def test_names_a_spreadsheet_would_convert_are_text_in_every_csv(warehouse: Path) -> None:
    hostile = {*REGION_NAMES.values(), *LIST_NAMES.values()} - {"Gamma 2021"}
    seen: set[str] = set()
    for folder in folders(warehouse):
        for path in folder.glob("*.csv"):
            for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")):
                seen.update(c for c in row if from_spreadsheet_cell(c) in hostile)
                assert hostile.isdisjoint(row), (path.name, row)  # never bare
                assert "Gamma 2021" not in {c[1:] for c in row if c.startswith("'")}  # plain text stays
    assert seen == {"'" + name for name in hostile}


def _writable_copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    for path in [target, *target.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return target


def test_verify_renders_the_new_files_again_and_names_an_altered_one(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli("verify", "--warehouse", str(warehouse)) == EXIT_OK
    copy = _writable_copy(warehouse, tmp_path / "wh")
    folder = with_precincts(copy)
    for name in (PRECINCTS_CSV, WORKBOOK):
        path = folder / name
        original = path.read_bytes()
        path.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
        capsys.readouterr()
        assert _cli("verify", "--warehouse", str(copy)) == EXIT_FAILURE
        out = capsys.readouterr().out
        assert f"{folder.name}/{name}: the file differs from what the log renders" in out
        assert _cli("verify-publication", str(folder)) == EXIT_FAILURE
        assert f"{name}: sha256" in capsys.readouterr().out
        path.write_bytes(original)
    assert _cli("verify", "--warehouse", str(copy)) == EXIT_OK


def test_verify_publication_adds_the_precinct_results_up(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _writable_copy(with_precincts(warehouse), tmp_path / "download")
    assert _cli("verify-publication", str(folder)) == EXIT_OK
    path = folder / PRECINCTS_CSV
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    alpha = next(r for r in rows if r[4] == "alpha")
    alpha[6] = str(int(alpha[6]) + 100)  # a forger adds votes and reseals the manifest
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    manifest = json.loads((folder / MANIFEST).read_bytes())
    data = path.read_bytes()
    manifest["files"][PRECINCTS_CSV] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert _cli("verify-publication", str(folder)) == EXIT_FAILURE
    assert "precincts.csv: alpha adds up to" in capsys.readouterr().out
