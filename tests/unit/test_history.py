"""Historical elections: the shipped files reproduce the official national totals exactly."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipelines.core.errors import InputError
from pipelines.core.paths import HISTORY_DIR
from pipelines.domain.election import load_declaration
from pipelines.synthetic.history import (
    get_election,
    list_elections,
    region_slug,
    write_history_files,
)

ELECTION_IDS = [
    "kz-mazhilis-2004",
    "kz-mazhilis-2007",
    "kz-mazhilis-2012",
    "kz-mazhilis-2016",
    "kz-mazhilis-2021",
    "kz-mazhilis-2023",
]


def _reference(name: str) -> list[dict[str, str]]:
    with (HISTORY_DIR / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _read_protocols(paths: list[Path]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in paths:
        if path.suffix == ".csv":
            with path.open(newline="", encoding="utf-8") as handle:
                rows.extend(csv.DictReader(handle))
    return rows


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    root = tmp_path_factory.mktemp("history")
    return {eid: write_history_files(eid, root / eid) for eid in ELECTION_IDS}


def test_list_elections_ships_the_six_contests_in_date_order() -> None:
    shipped = list_elections()
    assert [e.election_id for e in shipped] == ELECTION_IDS
    reference = {row["election_id"]: row for row in _reference("kz_mazhilis_elections.csv")}
    for election in shipped:
        assert election.seats == int(reference[election.election_id]["list_seats"])
        assert election.threshold_pct == int(reference[election.election_id]["threshold_pct"])
        assert election.source_note


@pytest.mark.parametrize("election_id", ELECTION_IDS)
def test_sums_equal_the_official_totals(election_id: str, written: dict[str, list[Path]]) -> None:
    paths = written[election_id]
    rows = _read_protocols(paths)
    official = {r["election_id"]: r for r in _reference("kz_mazhilis_elections.csv")}[election_id]
    results = [r for r in _reference("kz_mazhilis_results.csv") if r["election_id"] == election_id]

    for result in results:
        assert sum(int(row[result["party_lineage"]]) for row in rows) == int(result["votes"])
    for column in ("registered_voters", "ballots_cast", "invalid_ballots", "against_all"):
        if official[column]:
            assert sum(int(row[column]) for row in rows) == int(official[column]), column
    valid = sum(int(row[r["party_lineage"]]) for row in rows for r in results)
    assert valid == int(official["valid_list_votes"])
    if official["polling_stations"]:
        assert len(rows) == int(official["polling_stations"])
    else:
        assert 9800 <= len(rows) <= 10200


@pytest.mark.parametrize("election_id", ELECTION_IDS)
def test_declaration_matches_protocols_and_regions(election_id: str, written: dict[str, list[Path]]) -> None:
    paths = written[election_id]
    assert paths[0].name == f"{election_id}.election.json"
    declaration = load_declaration(paths[0])
    assert declaration.synthetic and "SYNTHETIC" in declaration.source_note
    assert declaration.rule_profile == election_id
    regions = [r["region"] for r in _reference("kz_regions.csv") if r["election_id"] == election_id]
    assert [r.name for r in declaration.regions] == regions
    official = {r["election_id"]: r for r in _reference("kz_mazhilis_elections.csv")}[election_id]
    assert len(regions) == int(official["regions"])
    rows = _read_protocols(paths)
    declared = {p.precinct_id: (p.region_id, p.registered_voters) for p in declaration.precincts}
    assert {row["precinct_id"]: (row["region"], int(row["registered_voters"])) for row in rows} == declared
    assert {row["region"] for row in rows} == {r.region_id for r in declaration.regions}


@pytest.mark.parametrize("election_id", ELECTION_IDS)
def test_every_protocol_adds_up(election_id: str, written: dict[str, list[Path]]) -> None:
    list_ids = [
        r["party_lineage"] for r in _reference("kz_mazhilis_results.csv") if r["election_id"] == election_id
    ]
    for row in _read_protocols(written[election_id]):
        counted = sum(int(row[i]) for i in list_ids) + int(row["against_all"]) + int(row["invalid_ballots"])
        assert counted == int(row["ballots_cast"]), row["precinct_id"]
        assert int(row["ballots_cast"]) <= int(row["ballots_issued"]) <= int(row["registered_voters"])
        assert row["version"] == "1"
        # plausible, not alarming: no synthetic precinct reports a full 100% turnout
        assert int(row["ballots_cast"]) < int(row["registered_voters"])


def test_missing_figures_are_derived_and_said_so(written: dict[str, list[Path]]) -> None:
    note_2004 = load_declaration(written["kz-mazhilis-2004"][0]).source_note
    note_2012 = load_declaration(written["kz-mazhilis-2012"][0]).source_note
    assert "registered voters" in note_2004 and "derived" in note_2004
    assert "ballots cast" in note_2012 and "derived" in note_2012
    rows_2004 = _read_protocols(written["kz-mazhilis-2004"])
    turnout = sum(int(r["ballots_cast"]) for r in rows_2004) / sum(
        int(r["registered_voters"]) for r in rows_2004
    )
    assert 0.5 < turnout < 0.65


def test_same_seed_gives_identical_bytes_other_seed_other_precincts(tmp_path: Path) -> None:
    first = write_history_files("kz-mazhilis-2016", tmp_path / "a", seed=9)
    again = write_history_files("kz-mazhilis-2016", tmp_path / "b", seed=9)
    other = write_history_files("kz-mazhilis-2016", tmp_path / "c", seed=10)
    assert [p.name for p in first] == [p.name for p in again]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, again, strict=True))
    assert any(a.read_bytes() != c.read_bytes() for a, c in zip(first[1:], other[1:], strict=True))
    for column in ("ballots_cast", "amanat", "ak_zhol"):
        assert sum(int(r[column]) for r in _read_protocols(first)) == sum(
            int(r[column]) for r in _read_protocols(other)
        )


def test_region_slugs_keep_cities_apart_from_their_regions() -> None:
    assert region_slug("Almaty Region") == "almaty"
    assert region_slug("Almaty (city)") == "almaty_city"
    assert region_slug("Nur-Sultan (city)") == "nur_sultan_city"
    assert region_slug("East Kazakhstan Region") == "east_kazakhstan"


def test_west_kazakhstan_is_an_hour_behind_until_2024() -> None:
    regions = {r.name: r.utc_offset_hours for r in get_election("kz-mazhilis-2016").regions}
    assert regions["Mangystau Region"] == 5 and regions["Almaty (city)"] == 6
    assert regions["Kyzylorda Region"] == 6
    assert {r.name: r.utc_offset_hours for r in get_election("kz-mazhilis-2023").regions}[
        "Kyzylorda Region"
    ] == 5


def test_unknown_election_is_a_plain_input_error() -> None:
    with pytest.raises(InputError, match="kz-mazhilis-1999"):
        get_election("kz-mazhilis-1999")


def _cli(argv: list[str]) -> int:
    import argparse

    from pipelines.cli import history_command

    parser = argparse.ArgumentParser(prog="elections")
    history_command.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


def test_load_history_list_prints_what_ships(capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(["load-history", "--list"]) == 0
    out = capsys.readouterr().out
    assert all(eid in out for eid in ELECTION_IDS)


def test_load_history_hands_the_files_to_ingestion(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys
    import types

    seen: dict[str, object] = {}

    class Summary:
        def lines(self) -> list[str]:
            return ["ingested for the test"]

    def ingest_paths(paths: list[Path], *, warehouse: Path) -> Summary:
        seen["names"] = [p.name for p in paths]
        seen["rows"] = sum(len(_read_protocols([p])) for p in paths)
        seen["warehouse"] = warehouse
        return Summary()

    fake = types.ModuleType("pipelines.ingestion.ingest")
    fake.ingest_paths = ingest_paths  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pipelines.ingestion.ingest", fake)
    assert _cli(["load-history", "kz-mazhilis-2004", "--warehouse", str(tmp_path)]) == 0
    names = seen["names"]
    assert names == ["kz-mazhilis-2004.election.json", "kz-mazhilis-2004.protocols.national.csv"]
    assert seen["rows"] == 9800 and seen["warehouse"] == tmp_path
    assert "ingested for the test" in capsys.readouterr().out
    assert _cli(["load-history", "kz-mazhilis-2004", "--by-region", "--warehouse", str(tmp_path)]) == 0
    names = seen["names"]
    assert isinstance(names, list) and names[0] == "kz-mazhilis-2004.election.json" and len(names) == 17
    assert seen["rows"] == 9800


def test_load_history_without_an_election_is_a_plain_error() -> None:
    with pytest.raises(InputError, match="load-history --list"):
        _cli(["load-history"])


@pytest.mark.parametrize("election_id", ELECTION_IDS)
def test_summed_precincts_reproduce_the_official_list_seats(
    election_id: str, written: dict[str, list[Path]]
) -> None:
    from pipelines.rules.rule_profiles import load_profile
    from pipelines.rules.seat_allocation import ListVotes, allocate

    declaration = load_declaration(written[election_id][0])
    rows = _read_protocols(written[election_id])
    lists = [
        ListVotes(p.list_id, p.name, sum(int(r[p.list_id]) for r in rows), p.ballot_order)
        for p in declaration.lists
    ]
    allocation = allocate(
        lists,
        load_profile(declaration.rule_profile),
        against_all=sum(int(r["against_all"]) for r in rows),
        invalid=sum(int(r["invalid_ballots"]) for r in rows),
        ballots_cast=sum(int(r["ballots_cast"]) for r in rows),
    )
    official = {
        r["party_lineage"]: int(r["official_list_seats"])
        for r in _reference("kz_mazhilis_results.csv")
        if r["election_id"] == election_id
    }
    assert {row.list_id: row.seats for row in allocation.rows} == official
