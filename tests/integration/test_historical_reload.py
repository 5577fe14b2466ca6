"""Reloads on real DuckDB and GX, without Airflow: the cut-off by arrival time, the shipped history
against the official seats, and the plain refusals of bad parameters."""

from __future__ import annotations

import csv
import re
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.cli.main import main
from pipelines.core.errors import EXIT_BAD_INPUT, InputError
from pipelines.core.paths import SCHEMAS_DIR, WarehousePaths
from pipelines.ingestion.ingest import ingest_paths
from pipelines.orchestration import historical_reload
from pipelines.orchestration.historical_reload import parse_request, reload_election
from pipelines.rules.rule_profiles import load_profile
from pipelines.rules.seat_allocation import ListVotes, allocate
from tests.support.small_election import (
    ELECTION_ID,
    LISTS,
    expected_totals,
    precinct_ids,
    protocol,
    write_declaration,
    write_protocols,
)

REFERENCE_RESULTS = SCHEMAS_DIR / "history" / "kz_mazhilis_results.csv"


def seats_of(rows: list[dict[str, object]]) -> dict[str, int]:
    votes = expected_totals(rows)
    allocation = allocate(
        [ListVotes(lid, lid.title(), votes[lid], ballot_order=i) for i, lid in enumerate(LISTS, 1)],
        load_profile("kz-mazhilis-2021"),
    )
    return {r.list_id: r.seats for r in allocation.rows}


def published_seats(folder: Path, election_id: str) -> dict[str, int]:
    with duckdb.connect(str(WarehousePaths(folder).snapshot), read_only=True) as conn:
        rows = conn.execute(
            "SELECT list_id, seats FROM proj_seat_table WHERE election_id = ?", [election_id]
        ).fetchall()
    return {str(lid): int(seats) for lid, seats in rows}


def test_an_as_of_reload_holds_only_what_had_arrived_by_then(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse, drops = tmp_path / "warehouse", tmp_path / "drops"
    early = [protocol(pid, (300, 250, 90, 40)) for pid in precinct_ids()[:6]]
    late = [protocol(pid, (90, 100, 80, 600)) for pid in precinct_ids()[6:]]
    write_declaration(drops)
    batch = write_protocols(drops, "early.csv", early)
    evening, night = datetime(2021, 1, 10, 20, 0), datetime(2021, 1, 11, 1, 30)
    ingest_paths([drops / f"{ELECTION_ID}.election.json", batch], warehouse=warehouse, received_at=evening)
    ingest_paths([write_protocols(drops, "late.csv", late)], warehouse=warehouse, received_at=night)

    # 23:00 at UTC+6 is 17:00 UTC: before anything arrived; 05:00 at UTC+6 is 23:00 UTC.
    with pytest.raises(InputError, match="not declared in what was received"):
        reload_election(warehouse, parse_request(ELECTION_ID, "archive", "2021-01-10T23:00:00+06:00"))
    as_of = "2021-01-11T05:00:00+06:00"
    code = main(
        [
            "reload",
            "--election",
            ELECTION_ID,
            "--source",
            "archive",
            "--as-of",
            as_of,
            "--warehouse",
            str(warehouse),
        ]
    )

    assert code == 0
    folder = warehouse / "data" / "reloads" / f"{ELECTION_ID}--as-of-20210110T230000Z"
    assert published_seats(folder, ELECTION_ID) == seats_of(early)
    assert seats_of(early) != seats_of(early + late)
    printed = capsys.readouterr().out
    assert f"reloaded {ELECTION_ID} from archive as of 2021-01-10T23:00:00 UTC into {folder}" in printed
    for list_id, seats in seats_of(early).items():
        assert re.search(rf"^{list_id} +[\d,]+ +{seats}$", printed, re.MULTILINE), printed
    # A failed reload leaves nothing behind; the good one sits alone in the reloads folder.
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]


@pytest.mark.slow
def test_a_history_reload_gives_the_official_seats_and_the_same_checksums_twice(tmp_path: Path) -> None:
    election_id = "kz-mazhilis-2004"
    with REFERENCE_RESULTS.open(newline="", encoding="utf-8") as handle:
        official = {
            row["party_lineage"]: int(row["official_list_seats"])
            for row in csv.DictReader(handle)
            if row["election_id"] == election_id
        }
    assert sum(official.values()) == 10

    first = reload_election(tmp_path, parse_request(election_id, "history"))
    again = reload_election(tmp_path, parse_request(election_id, "history"))

    assert published_seats(first.folder, election_id) == official
    assert again.checksums == first.checksums


@pytest.mark.parametrize(
    ("election_id", "source", "as_of", "column"),
    [
        ("../elsewhere", "archive", None, "election_id"),
        (ELECTION_ID, "spreadsheet", None, "source"),
        (ELECTION_ID, "archive", "tonight", "as_of"),
        ("kz-mazhilis-2004", "history", "2004-09-19T23:00:00", "as_of"),
    ],
)
def test_bad_parameters_are_refused_naming_the_parameter(
    election_id: str, source: str, as_of: str | None, column: str
) -> None:
    with pytest.raises(InputError) as refused:
        parse_request(election_id, source, as_of)
    assert refused.value.location.column == column


def test_a_reload_without_a_source_is_refused_and_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="raw archive is empty"):
        reload_election(tmp_path / "warehouse", parse_request(ELECTION_ID, "archive"))
    with pytest.raises(InputError, match="no historical election 'kz-mazhilis-1999'"):
        reload_election(tmp_path / "warehouse", parse_request("kz-mazhilis-1999", "history"))
    assert not (tmp_path / "warehouse").exists()  # a refused reload creates nothing


def test_the_reload_command_refuses_bad_input_with_a_plain_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    as_of = "2021-01-10T23:00"
    code = main(
        [
            "reload",
            "--election",
            ELECTION_ID,
            "--source",
            "history",
            "--as-of",
            as_of,
            "--warehouse",
            str(tmp_path),
        ]
    )

    assert code == EXIT_BAD_INPUT
    error = capsys.readouterr().err
    assert error.startswith("error: column 'as_of': as_of cuts the raw archive by arrival time")
    assert "Traceback" not in error


@pytest.mark.parametrize("atomic_exchange", [True, False])
def test_a_new_reload_takes_the_place_of_the_old_one_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, atomic_exchange: bool
) -> None:
    if not atomic_exchange:  # as on a system without renameat2(RENAME_EXCHANGE)
        monkeypatch.setattr(historical_reload, "_exchange", lambda first, second: False)
    target, build = tmp_path / "reloads" / ELECTION_ID, tmp_path / "reloads" / ".building"
    (target / "data").mkdir(parents=True)
    (target / "data" / "old").write_text("previous reload")
    (build / "data").mkdir(parents=True)
    (build / "data" / "new").write_text("this reload")

    historical_reload._swap_in(build, target)

    assert [p.name for p in (target / "data").iterdir()] == ["new"]
    assert [p.name for p in (build / "data").iterdir()] == ["old"]  # left for the caller to remove
