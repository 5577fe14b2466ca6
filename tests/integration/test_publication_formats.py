"""Publication folders written by an earlier version still verify byte for byte: the folders main wrote
at 6a6cae9 (format 1: LF CSV, formula-only defusing, no workbook) from the fixture log
tests/fixtures/logs/night-2026-12 are rendered again from that log by format 1's frozen renderer, a
format-2 folder (written by main at 70915a2, before format 3 changed the results page) is written again
the same, so are a format-3 certification and its revocation's provisional table (written by main at
2bd4e77, before format 4 added the certainty bounds), and new publications record the current format
and render as this version does."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.cli.main import main
from pipelines.core.errors import EXIT_FAILURE, EXIT_OK
from pipelines.core.paths import WarehousePaths
from pipelines.ingestion.replay import replay_archive
from pipelines.publishing.publication import certify, revoke_certification
from pipelines.publishing.publication_layout import (
    CERTAINTY_JSON,
    CURRENT_PUBLICATION_FORMAT,
    MANIFEST,
    RESULTS_PAGE,
    SEATS_CSV,
    WORKBOOK,
)
from pipelines.publishing.published_results import load_published_results
from pipelines.publishing.quarantine_stakes import quarantine_stakes
from pipelines.publishing.seat_bounds import bounds_as_of
from pipelines.store.election_rules import rules_in_force
from pipelines.store.event_store import EventStore, open_read_only
from pipelines.store.projections import rebuild_projections
from tests.support.old_log import FIXTURE, load_fixture_log

OLD_FOLDERS = FIXTURE / "publications"
FORMAT_2_FOLDERS = FIXTURE / "publications-format-2"
FORMAT_3_FOLDERS = FIXTURE / "publications-format-3"
ELECTION = "test-mazhilis"


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def old_warehouse(tmp_path: Path) -> WarehousePaths:
    """The old log, its archive and the folders the old version wrote, in a warehouse of this version."""
    paths = WarehousePaths(tmp_path / "warehouse")
    with load_fixture_log(paths) as conn:
        conn.execute("BEGIN TRANSACTION")
        rebuild_projections(conn)
        conn.execute("COMMIT")
    shutil.rmtree(paths.archive)
    shutil.copytree(FIXTURE / "archive", paths.archive)
    shutil.copytree(OLD_FOLDERS, paths.publications, dirs_exist_ok=True)
    # The fixture keeps no anchor file: an empty one, as a warehouse has, and the next writer anchors
    # the head the old log reached.
    paths.log_heads.touch()
    with EventStore.open_writer(paths):
        pass
    return paths


def test_folders_the_previous_version_wrote_verify_and_a_changed_byte_does_not(
    old_warehouse: WarehousePaths, capsys: pytest.CaptureFixture[str]
) -> None:
    assert len(list(OLD_FOLDERS.iterdir())) == 5
    assert main(["verify", "--warehouse", str(old_warehouse.root)]) == EXIT_OK, capsys.readouterr().out
    capsys.readouterr()
    seats = old_warehouse.publications / "test-mazhilis--provisional--000000020" / SEATS_CSV
    data = bytearray(seats.read_bytes())
    data[-2] = ord("1") if data[-2] != ord("1") else ord("2")
    seats.chmod(0o644)
    seats.write_bytes(bytes(data))
    assert main(["verify", "--warehouse", str(old_warehouse.root)]) == EXIT_FAILURE
    out = capsys.readouterr().out
    assert "test-mazhilis--provisional--000000020/seats.csv: the file differs" in out, out


def test_a_new_publication_beside_old_ones_records_the_current_format(old_warehouse: WarehousePaths) -> None:
    with EventStore.open_writer(old_warehouse) as store:
        publication = certify(store, ELECTION, override_reason="P011 and P012 never reported")
        row = store.conn.execute("SELECT payload FROM events ORDER BY position DESC LIMIT 1").fetchone()
    assert row is not None and json.loads(row[0])["publication_format"] == CURRENT_PUBLICATION_FORMAT
    folder = old_warehouse.publications / publication.publication_id
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["publication_format"] == CURRENT_PUBLICATION_FORMAT and WORKBOOK in manifest["files"]
    old_manifest = json.loads((OLD_FOLDERS / "test-mazhilis--certified--000000023" / MANIFEST).read_text())
    assert "publication_format" not in old_manifest
    assert main(["verify", "--warehouse", str(old_warehouse.root)]) == EXIT_OK


def test_a_format_2_publication_is_written_as_format_2_wrote_it(old_warehouse: WarehousePaths) -> None:
    """main at 70915a2 certified the old log at this time in format 2 and kept the folder: the same
    certification in format 2 now writes every file of it again to the byte, results page included."""
    [expected] = FORMAT_2_FOLDERS.iterdir()
    with EventStore.open_writer(old_warehouse) as store:
        publication = certify(
            store,
            ELECTION,
            override_reason="P011 and P012 never reported",
            at=datetime(2026, 12, 6, 12, 0, tzinfo=UTC),
            publication_format=2,
        )
    assert publication.publication_id == expected.name
    assert folder_bytes(old_warehouse.publications / expected.name) == folder_bytes(expected)


def test_format_3_folders_are_written_again_and_a_format_4_one_states_the_bounds(
    old_warehouse: WarehousePaths,
) -> None:
    """main at 2bd4e77 certified the old log in format 3, then revoked it, which published the table
    again as provisional (precincts outstanding, rows quarantined): both folders come out the same."""
    certified, provisional = sorted(FORMAT_3_FOLDERS.iterdir())
    with EventStore.open_writer(old_warehouse) as store:
        certify(
            store,
            ELECTION,
            override_reason="P011 and P012 never reported",
            at=datetime(2026, 12, 6, 12, 0, tzinfo=UTC),
            publication_format=3,
        )
        revoke_certification(
            store,
            ELECTION,
            reason="recount ordered",
            decided_by="CEC",
            occurred_at=datetime(2026, 12, 6, 12, 5, tzinfo=UTC),
            publication_format=3,
        )
    for expected in (certified, provisional):
        assert folder_bytes(old_warehouse.publications / expected.name) == folder_bytes(expected), (
            expected.name
        )
    # Certified and revoked again, now in format 4: the figures its event records (from the projections,
    # at publishing) give the bounds and the materiality `elections seats` computes from the log as of
    # the publication; verify checks every folder, format 3's and 4's.
    with EventStore.open_writer(old_warehouse) as store:
        certify(store, ELECTION, override_reason="P011 and P012 never reported")
        revocation = revoke_certification(store, ELECTION, reason="recount ordered", decided_by="CEC")
    assert revocation.publication is not None
    folder = old_warehouse.publications / revocation.publication.publication_id
    stated = json.loads((folder / CERTAINTY_JSON).read_text())
    with open_read_only(old_warehouse.snapshot) as conn:
        results = load_published_results(conn, revocation.publication.publication_id)
        profile = rules_in_force(conn, ELECTION, results.based_on_position).profile
        found = bounds_as_of(conn, ELECTION, results.based_on_position, profile)
        stakes = quarantine_stakes(conn, found.totals, results.position - 1, profile)
    bounds = stated["bounds"]
    assert bounds["precincts_outstanding"] == found.precincts_outstanding == 2
    assert bounds["outstanding_registered_voters"] == found.bounds.outstanding  # annulled ones left out
    assert bounds["decided_seats"] == found.bounds.decided < bounds["total_seats"]
    assert [(b["list_id"], b["threshold"], b["min_seats"], b["max_seats"]) for b in bounds["lists"]] == [
        (b.list_id, b.status, b.min_seats, b.max_seats) for b in found.bounds.lists
    ]
    quarantine = stated["quarantine"]
    assert stakes.materiality is not None
    assert (quarantine["entries"], quarantine["precincts"]) == (stakes.entries, stakes.precincts)
    assert quarantine["verdict"] == stakes.materiality.verdict and quarantine["material"]
    page = (folder / RESULTS_PAGE).read_text(encoding="utf-8")
    assert f"decided: {bounds['decided_seats']} of {bounds['total_seats']} seats" in page
    assert 'class="quarantine-warning"' in page
    assert main(["verify", "--warehouse", str(old_warehouse.root)]) == EXIT_OK


@pytest.mark.slow
def test_a_replay_of_the_old_journal_writes_the_old_folders_again(tmp_path: Path) -> None:
    """The journal of a version before formats names none: its replay publishes format 1 again, the
    same folders to the byte, manifest included."""
    source = WarehousePaths(tmp_path / "source")
    shutil.copytree(FIXTURE / "archive", source.archive)
    target = WarehousePaths(tmp_path / "replayed")
    replay_archive(source, target.root)
    replayed = sorted(p.name for p in target.publications.iterdir() if not p.name.startswith("."))
    assert replayed == sorted(p.name for p in OLD_FOLDERS.iterdir())
    for name in replayed:
        assert folder_bytes(target.publications / name) == folder_bytes(OLD_FOLDERS / name), name
