"""An OpenElections file read through the shipped `openelections` layout (extended to another contest)
by `elections declare --layout` and `elections ingest --layout` gives the per-list totals and the
winner that the dedicated OpenElections path gives for the same file."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from pipelines.cli.main import main
from pipelines.core.errors import EXIT_OK
from pipelines.core.paths import REPO_ROOT, WarehousePaths
from pipelines.gate.native_layout import load_layout
from pipelines.ingestion.openelections_ingest import ingest_openelections

EXAMPLE = REPO_ROOT / "examples" / "openelections"
FILE = "20201103__zz__general__precinct.csv"


def query(paths: WarehousePaths, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(paths.snapshot), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_the_layout_path_gives_the_dedicated_paths_totals_and_winner(tmp_path: Path) -> None:
    source = tmp_path / "in" / FILE
    source.parent.mkdir()
    shutil.copyfile(EXAMPLE / FILE, source)

    dedicated = WarehousePaths(tmp_path / "dedicated")
    ingest_openelections([source], warehouse=dedicated.root, election_id="zz-2020")
    totals = query(dedicated, "SELECT candidate, votes FROM oe_state_totals WHERE office = 'Governor'")
    (winner,) = query(dedicated, "SELECT candidate FROM oe_contest_winners WHERE office = 'Governor'")

    native = WarehousePaths(tmp_path / "native")
    layout, rules, where = (
        EXAMPLE / "governor.yaml",
        EXAMPLE / "rules.yaml",
        ("--warehouse", str(native.root)),
    )
    assert main(["declare", str(source), "--layout", str(layout), "--rules", str(rules),
                 "--election", "zz-governor", "--name", "ZZ Governor", *where]) == EXIT_OK  # fmt: skip
    assert (
        main(["ingest", str(source), "--layout", str(layout), "--election", "zz-governor", *where]) == EXIT_OK
    )
    seats = query(native, "SELECT name, votes, seats FROM proj_seat_table")

    assert {name: votes for name, votes, _ in seats} == {candidate: votes for candidate, votes in totals}
    assert [name for name, _, won in seats if won] == [winner[0]]
    # The other contests' records (a Senate "1,2", a Mayor record split by a stray comma) are not read:
    # nothing quarantined. Pseudo-records became figures, not lists.
    assert query(native, "SELECT count(*) FROM proj_quarantine") == [(0,)]
    assert query(native, "SELECT count(*) FROM proj_lists") == [(len(totals),)]
    figures = query(
        native,
        "SELECT precinct_id, registered_voters, ballots_cast, invalid_ballots FROM proj_precinct_results "
        "WHERE precinct_id = 'Adams/North, 1'",
    )
    assert figures == [("Adams/North, 1", 400, 223, 3)]  # 400 registered, 120 + 100 + 3 over votes
    # The receipt carries the whole layout (the shipped one's fields with the contest), not `extends`.
    journaled = load_layout(str(layout)).content
    assert "extends" not in journaled and journaled["lists"]["long"]["missing_list"] == "zero"
    assert journaled["keep_where"][0] == {"column": "office", "matches": "Governor"}


# Two House seats in one file: the district's own records are kept by office and district together.
HOUSE_FILE = """county,precinct,office,district,candidate,party,votes
Adams,A1,U.S. House,3,Ann Smith,DEM,120
Adams,A1,U.S. House,3,Bob Jones,REP,100
Adams,A1,U.S. House,4,Cy Dee,DEM,70
Adams,A1,U.S. House,4,Di Eve,REP,90
Adams,A2,U.S. House,3,Ann Smith,DEM,30
Adams,A2,U.S. House,3,Bob Jones,REP,80
Adams,A2,U.S. House,4,Cy Dee,DEM,1
Adams,A2,President,,Flo Gee,DEM,250
"""
HOUSE_LAYOUT = """layout_id: openelections-house-3
extends: openelections
keep_where:
  - all: [{column: office, matches: "U\\\\.S\\\\. House"}, {column: district, matches: "0*3"}]
"""


def test_a_districted_office_is_kept_by_office_and_district_together(tmp_path: Path) -> None:
    assert HOUSE_LAYOUT in (REPO_ROOT / "docs" / "layouts.md").read_text(encoding="utf-8")  # as documented
    source, layout = tmp_path / "house.csv", tmp_path / "house-3.yaml"
    source.write_text(HOUSE_FILE, encoding="utf-8")
    layout.write_text(HOUSE_LAYOUT, encoding="utf-8")
    native = WarehousePaths(tmp_path / "native")
    where = ("--warehouse", str(native.root))
    assert main(["declare", str(source), "--layout", str(layout), "--rules", str(EXAMPLE / "rules.yaml"),
                 "--election", "zz-house-3", "--name", "ZZ House 3", *where]) == EXIT_OK  # fmt: skip
    assert (
        main(["ingest", str(source), "--layout", str(layout), "--election", "zz-house-3", *where]) == EXIT_OK
    )

    seats = query(native, "SELECT name, votes, seats FROM proj_seat_table ORDER BY name")
    assert seats == [("Ann Smith", 150, 0), ("Bob Jones", 180, 1)]
    assert query(native, "SELECT count(*) FROM proj_quarantine") == [(0,)]
    assert load_layout(str(layout)).content["keep_where"] == [
        {"all": [{"column": "office", "matches": "U\\.S\\. House"}, {"column": "district", "matches": "0*3"}]}
    ]
