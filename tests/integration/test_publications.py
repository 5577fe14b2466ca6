"""Publications: immutable, checksummed folders; certification; diff; NIST CDF; the CLI."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from pipelines.cli.main import main
from pipelines.core.paths import WarehousePaths
from pipelines.publishing.nist_schema import validation_errors
from pipelines.publishing.publication import CertificationRefused, certify, publish
from pipelines.publishing.publication_check import check_folder as verify_publication
from pipelines.publishing.publication_diff import diff_publications
from pipelines.publishing.publication_files import publication_folder_files
from pipelines.publishing.publication_layout import (
    CDF_JSON,
    MANIFEST,
    NATIONAL_JSON,
    REGIONAL_CSV,
    SEATS_CSV,
    SEATS_JSON,
    SEATS_PARQUET,
)
from pipelines.store.event_store import EventStore
from pipelines.store.projections import rebuild_projections
from pipelines.store.snapshot import refresh_snapshot
from tests.support.election_night import (
    AMENDED_PRECINCT,
    ANNULLED_PRECINCT,
    HOSTILE_REGION_NAME,
    PENDING_PRECINCTS,
    ElectionNight,
    amendment,
    copy_of,
    election_night,
    first_batch,
)
from tests.support.small_election import ELECTION_ID, LISTS, expected_totals


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> ElectionNight:
    return election_night(tmp_path_factory.mktemp("night"))


def folder_of(night: ElectionNight, publication_id: str) -> Path:
    return WarehousePaths(night.warehouse).publications / publication_id


def snapshot(warehouse: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(WarehousePaths(warehouse).snapshot), read_only=True)


def published_payload(warehouse: Path, publication_id: str) -> dict[str, Any]:
    with snapshot(warehouse) as conn:
        row = conn.execute(
            "SELECT payload FROM events WHERE event_type IN ('ResultsPublished', 'ResultsCertified') "
            "AND payload->>'$.publication_id' = ?",
            [publication_id],
        ).fetchall()
    return dict(json.loads(row[0][0]))


def folder_state(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def test_every_publication_has_a_folder_whose_checksums_verify(night: ElectionNight) -> None:
    assert len(night.publications) == 4
    for pub_id in night.publications:
        folder = folder_of(night, pub_id)
        assert verify_publication(folder) == []
        listed = json.loads((folder / MANIFEST).read_text())
        assert set(listed["files"]) == {p.name for p in folder.iterdir()} - {MANIFEST}
        payload = published_payload(night.warehouse, pub_id)
        assert listed["based_on_position"] == payload["based_on_position"]
        assert listed["rule_profile"] == "kz-mazhilis-2021"
        assert listed["table_sha256"] == payload["table_sha256"]
        assert (folder / SEATS_CSV).stat().st_mode & 0o222 == 0  # files are read-only


def test_an_altered_file_fails_verification(night: ElectionNight, tmp_path: Path) -> None:
    warehouse = copy_of(night, tmp_path / "wh")
    folder = WarehousePaths(warehouse).publications / night.publications[0]
    target = folder / SEATS_CSV
    os.chmod(target, 0o644)
    target.write_bytes(target.read_bytes().replace(b"alpha", b"alphA"))
    problems = verify_publication(folder)
    assert len(problems) == 1 and problems[0].startswith(f"{SEATS_CSV}: sha256")


def test_files_rebuilt_from_the_same_events_are_byte_identical(night: ElectionNight, tmp_path: Path) -> None:
    paths = WarehousePaths(copy_of(night, tmp_path / "wh"))
    with EventStore.open_writer(paths) as store:
        with store.transaction():
            rebuild_projections(store.conn)  # every projection replayed from the log
        for pub_id in night.publications:
            folder = paths.publications / pub_id
            rebuilt = publication_folder_files(store.conn, pub_id)
            assert MANIFEST in rebuilt  # the manifest too: nothing in the folder comes from the clock
            assert {p.name: p.read_bytes() for p in folder.iterdir()} == rebuilt


def test_a_second_publish_never_rewrites_an_earlier_folder(night: ElectionNight, tmp_path: Path) -> None:
    warehouse = copy_of(night, tmp_path / "wh")
    paths = WarehousePaths(warehouse)
    before = {pub: folder_state(paths.publications / pub) for pub in night.publications}
    with EventStore.open_writer(paths) as store:
        assert publish(store, ELECTION_ID) is None  # nothing changed since the last publication
        certified = certify(store, ELECTION_ID, override_reason="two remote precincts lost", operator="t")
        head = store.head()[0]
        assert publish(store, ELECTION_ID) is None  # the certified table covers these results
        assert store.head()[0] == head
    after = {pub: folder_state(paths.publications / pub) for pub in night.publications}
    assert after == before
    assert verify_publication(paths.publications / certified.publication_id) == []
    assert sorted(p.name for p in paths.publications.iterdir()) == sorted(
        [*night.publications, certified.publication_id]
    )


def test_a_folder_lost_after_its_event_committed_is_written_by_the_next_publish(
    night: ElectionNight, tmp_path: Path
) -> None:
    warehouse = copy_of(night, tmp_path / "wh")
    paths = WarehousePaths(warehouse)
    last = paths.publications / night.publications[-1]
    original = {p.name: p.read_bytes() for p in last.iterdir() if p.name != MANIFEST}
    os.chmod(last, 0o755)
    for p in last.iterdir():
        p.unlink()
    last.rmdir()
    with EventStore.open_writer(paths) as store:
        assert publish(store, ELECTION_ID) is None
    assert {p.name: p.read_bytes() for p in last.iterdir() if p.name != MANIFEST} == original


def test_totals_files_equal_the_sum_of_protocols_in_force(night: ElectionNight) -> None:
    first = json.loads((folder_of(night, night.publications[0]) / NATIONAL_JSON).read_text())["national"]
    assert {lid: first[lid] for lid in LISTS} == expected_totals(first_batch())
    assert first["precincts_reported"] == 6 and first["precincts_pending"] == 6
    last = json.loads((folder_of(night, night.publications[-1]) / NATIONAL_JSON).read_text())["national"]
    assert {lid: last[lid] for lid in LISTS} == expected_totals(night.rows_in_force())
    assert last["precincts_annulled"] == 1
    assert last["precincts_pending"] == len(PENDING_PRECINCTS)


def test_seat_files_agree_with_the_published_event(night: ElectionNight) -> None:
    pub_id = night.publications[-1]
    folder = folder_of(night, pub_id)
    payload = published_payload(night.warehouse, pub_id)
    event_seats = {r["list_id"]: r["seats"] for r in payload["seats"]}
    assert sum(event_seats.values()) == 98
    as_json = {r["list_id"]: r["seats"] for r in json.loads((folder / SEATS_JSON).read_text())["seats"]}
    as_csv = {
        r["list_id"]: int(r["seats"]) for r in csv.DictReader(io.StringIO((folder / SEATS_CSV).read_text()))
    }
    as_parquet = dict(
        zip(
            *pq.read_table(folder / SEATS_PARQUET).select(["list_id", "seats"]).to_pydict().values(),
            strict=True,
        )
    )
    assert as_json == as_csv == as_parquet == event_seats


def test_no_csv_cell_can_start_a_formula(night: ElectionNight) -> None:
    folder = folder_of(night, night.publications[-1])
    for name in (p.name for p in folder.iterdir() if p.suffix == ".csv"):
        for row in csv.reader(io.StringIO((folder / name).read_text())):
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)
    regions = list(csv.DictReader(io.StringIO((folder / REGIONAL_CSV).read_text())))
    assert "'" + HOSTILE_REGION_NAME in {r["name"] for r in regions}


def test_certification_is_refused_while_precincts_are_missing_and_recorded_when_overridden(
    night: ElectionNight, tmp_path: Path
) -> None:
    paths = WarehousePaths(copy_of(night, tmp_path / "wh"))
    with EventStore.open_writer(paths) as store:
        with pytest.raises(CertificationRefused, match=f"{len(PENDING_PRECINCTS)} declared precinct"):
            certify(store, ELECTION_ID)
        head_before = store.head()[0]
        certified = certify(store, ELECTION_ID, override_reason="two remote precincts lost", operator="anna")
        with pytest.raises(CertificationRefused, match="already certified"):
            certify(store, ELECTION_ID, override_reason="again", operator="anna")
        rows = store.events(after=head_before)
    assert [e.event_type for e in rows] == ["CertificationOverridden", "ResultsCertified"]
    assert rows[0].payload["reason"] == "two remote precincts lost"
    assert rows[0].payload["operator"] == "anna"
    assert rows[0].payload["missing_precincts"] == len(PENDING_PRECINCTS)
    assert rows[1].payload["publication_id"] == certified.publication_id
    assert json.loads((paths.publications / certified.publication_id / MANIFEST).read_text())["status"] == (
        "certified"
    )


def test_diff_on_an_amendment_shows_exactly_that_precincts_change(night: ElectionNight) -> None:
    before_amendment, after_amendment = night.publications[1], night.publications[2]
    original = next(r for r in first_batch() if r["precinct_id"] == AMENDED_PRECINCT)
    change = {lid: int(str(amendment()[lid])) - int(str(original[lid])) for lid in LISTS}
    with snapshot(night.warehouse) as conn:
        diff = diff_publications(conn, before_amendment, after_amendment)
    assert {p["precinct_id"] for p in diff.precincts} == {AMENDED_PRECINCT}
    assert {p["list_id"]: p["votes_change"] for p in diff.precincts} == {
        lid: c for lid, c in change.items() if c
    }
    assert {r["list_id"]: r["votes_change"] for r in diff.lists} == change
    assert [(e["event_type"], e["precinct_id"], e["file_name"]) for e in diff.events] == [
        ("ProtocolAmended", AMENDED_PRECINCT, "amend.csv")
    ]


def test_diff_on_an_annulment_removes_the_precincts_votes(night: ElectionNight) -> None:
    with snapshot(night.warehouse) as conn:
        diff = diff_publications(conn, night.publications[2], night.publications[3])
    assert {p["precinct_id"] for p in diff.precincts} == {ANNULLED_PRECINCT}
    assert all(p["votes_after"] == 0 and p["annulled_after"] for p in diff.precincts)
    assert [e["event_type"] for e in diff.events] == ["PrecinctAnnulled"]


def test_nist_cdf_validates_references_resolve_and_counts_match_the_totals(night: ElectionNight) -> None:
    folder = folder_of(night, night.publications[-1])
    report = json.loads((folder / CDF_JSON).read_text())
    assert validation_errors(report) == []
    assert report["Status"] == "unofficial-partial"  # two precincts still to report
    units = {u["@id"]: u for u in report["GpUnit"]}
    parties = {p["@id"]: p for p in report["Party"]}
    country = next(u for u in units.values() if u["Type"] == "country")
    assert set(country["ComposingGpUnitIds"]) == set(units) - {country["@id"]}
    (election,) = report["Election"]
    assert election["ElectionScopeId"] == country["@id"]
    (contest,) = election["Contest"]
    assert contest["@type"] == "ElectionResults.PartyContest"
    national = {}
    for selection in contest["ContestSelection"]:
        (party_id,) = selection["PartyIds"]
        (list_id,) = [
            i["Value"] for i in parties[party_id]["ExternalIdentifier"] if i["OtherType"].endswith(":list-id")
        ]
        for count in selection["VoteCounts"]:
            assert count["GpUnitId"] in units
            if count["GpUnitId"] == country["@id"] and count["Type"] == "total":
                national[list_id] = count["Count"]
    assert national == expected_totals(night.rows_in_force())
    colors = {p["@id"]: p.get("Color") for p in parties.values()}
    assert (
        colors["party-alpha"] == "aa3377" and colors["party-gamma"] is None
    )  # the injected colour is dropped


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_lists_publications_diffs_and_certifies(
    night: ElectionNight, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = str(copy_of(night, tmp_path / "wh"))
    code, out, _ = run_cli(capsys, "publications", "--format", "json", "--warehouse", warehouse)
    assert code == 0
    assert [p["publication_id"] for p in json.loads(out)] == night.publications
    assert {p["files"] for p in json.loads(out)} == {"verified"}
    code, out, _ = run_cli(capsys, "diff", *night.publications[1:3], "--warehouse", warehouse)
    assert code == 0 and "ProtocolAmended" in out and AMENDED_PRECINCT in out and "amend.csv" in out
    code, _, err = run_cli(capsys, "publish", "--certify", "--warehouse", warehouse)
    assert code == 1 and f"{len(PENDING_PRECINCTS)} declared precinct(s)" in err
    code, out, _ = run_cli(
        capsys, "publish", "--certify", "--override-reason", "lost ballots", "--warehouse", warehouse
    )
    assert code == 0 and "published certified" in out
    code, out, _ = run_cli(capsys, "publications", "--format", "json", "--warehouse", warehouse)
    assert json.loads(out)[-1]["status"] == "certified"  # the snapshot was refreshed after the write
    code, _, err = run_cli(capsys, "diff", "nope", night.publications[0], "--warehouse", warehouse)
    assert code == 2 and "no publication 'nope'" in err


def test_refresh_keeps_views_in_the_snapshot(night: ElectionNight, tmp_path: Path) -> None:
    paths = WarehousePaths(copy_of(night, tmp_path / "wh"))
    refresh_snapshot(paths)
    with snapshot(paths.root) as conn:
        rows = conn.execute("SELECT publication_id FROM publications ORDER BY position").fetchall()
    assert [r[0] for r in rows] == night.publications
