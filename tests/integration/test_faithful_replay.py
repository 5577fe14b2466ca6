"""A replay of the raw archive's journal, and `elections rebuild`, reproduce every publication byte for
byte: ingest options, manual publications and a certification with an override included."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.cli.main import main
from pipelines.core.errors import EXIT_QUARANTINED
from pipelines.core.paths import WarehousePaths
from pipelines.ingestion.ingest import ingest_paths
from pipelines.ingestion.replay import replay_archive
from pipelines.publishing.publication_files import rebuild_publication
from pipelines.publishing.publication_layout import MANIFEST
from pipelines.store.projections import projection_checksums, update_projections
from tests.support.small_election import (
    ELECTION_ID,
    precinct_ids,
    protocol,
    write_annulment,
    write_declaration,
    write_protocols,
)

LOG_COLUMNS = (
    "position, stream_id, stream_version, event_type, election_id, occurred_at, recorded_at, batch_id, "
    "payload, prev_hash, event_hash"
)


def cli(*args: str | Path) -> int:
    return main([str(a) for a in args])


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> WarehousePaths:
    """Ingest runs with every option, a manual publication, a refused and an overridden certification."""
    base = tmp_path_factory.mktemp("faithful")
    warehouse = base / "warehouse"
    inbox = base / "inbox"
    ids = precinct_ids(12)
    rows = [protocol(pid, (300 + 7 * i, 120 + i, 80 - i, 20 + i % 4)) for i, pid in enumerate(ids)]
    declaration = write_declaration(inbox / "run1", 12)
    assert cli("ingest", declaration, write_protocols(inbox / "run1", "first.csv", rows[:4]),
               "--warehouse", warehouse) == 0  # fmt: skip
    # Whole-file policy: one bad row refuses the file (under the row policy its good rows would count).
    bad = {**protocol("P005", (1, 2, 3, 4)), "ballots_cast": 1}
    spoiled = write_protocols(inbox / "run2", "spoiled.csv", [rows[5], bad])
    assert cli("ingest", spoiled, "--policy", "file", "--warehouse", warehouse) == EXIT_QUARANTINED
    # The election named on the command line rather than sniffed from the file.
    hinted = write_protocols(inbox / "run3", "hinted.csv", rows[4:8])
    assert cli("ingest", hinted, "--election", ELECTION_ID, "--warehouse", warehouse) == 0
    # Ingested without publishing (as a run killed before its publication), published by hand.
    amended = protocol("P002", (250, 170, 79, 25), version=2, reason="recount")
    later = [write_protocols(inbox / "run4", "later.csv", [*rows[8:10], amended])]
    ingest_paths(later, warehouse=warehouse, publish_results=False)
    assert cli("publish", "--precincts", "--warehouse", warehouse) == 0  # precincts in its NIST export
    (inbox / "run5").mkdir()
    assert cli("ingest", write_annulment(inbox / "run5", "annul.csv", "P003"), "--warehouse", warehouse) == 0
    assert cli("publish", "--certify", "--warehouse", warehouse) == 1  # P011, P012 missing: refused
    assert cli("publish", "--certify", "--override-reason", "two polling stations flooded",
               "--warehouse", warehouse) == 0  # fmt: skip
    # Revoked, then the rules amended (their content journaled): both replayed by name too.
    assert cli("decertify", "--election", ELECTION_ID, "--reason", "court order", "--by", "Court",
               "--warehouse", warehouse) == 0  # fmt: skip
    assert cli("amend-rules", "--election", ELECTION_ID, "--rules", "kz-mazhilis-2023", "--reason", "new law",
               "--by", "Parliament", "--warehouse", warehouse) == 0  # fmt: skip
    return WarehousePaths(warehouse)


def log_rows(paths: WarehousePaths) -> list[tuple[object, ...]]:
    with duckdb.connect(str(paths.database), read_only=True) as conn:
        return conn.execute(f"SELECT {LOG_COLUMNS} FROM events ORDER BY position").fetchall()


def checksums(paths: WarehousePaths) -> dict[str, str]:
    with duckdb.connect(str(paths.database), read_only=True) as conn:
        return projection_checksums(conn)


def folder_contents(folder: Path) -> dict[str, bytes]:
    """Every file's bytes; the manifest's `written_at` (wall clock) left out while it has one."""
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
    manifest = json.loads(files[MANIFEST])
    manifest.pop("written_at", None)
    files[MANIFEST] = json.dumps(manifest, sort_keys=True).encode()
    return files


def publications(paths: WarehousePaths) -> dict[str, dict[str, bytes]]:
    return {
        f.name: folder_contents(f) for f in sorted(paths.publications.iterdir()) if not f.name.startswith(".")
    }


def test_the_original_night_holds_what_a_replay_must_repeat(original: WarehousePaths) -> None:
    with duckdb.connect(str(original.database), read_only=True) as conn:
        types = [r[0] for r in conn.execute("SELECT event_type FROM events ORDER BY position").fetchall()]
        statuses = conn.execute("SELECT status FROM proj_publications ORDER BY position").fetchall()
        refused = conn.execute(
            "SELECT count(*) FROM events WHERE event_type = 'BatchQuarantined' "
            "AND payload->>'$.file_name' = 'spoiled.csv'"
        ).fetchall()
    assert "CertificationOverridden" in types and types[-4:] == [
        "CertificationRevoked",
        "ResultsPublished",  # the revocation's provisional table, in the same transaction
        "RulesAmended",
        "ResultsPublished",
    ]
    assert [s for (s,) in statuses] == ["provisional"] * 4 + ["certified", "provisional", "provisional"]
    assert refused == [(1,)]
    actions = [
        json.loads(line) for line in original.archive.joinpath("receipts.jsonl").read_text().splitlines()
    ]
    assert [a["action"] for a in actions if "action" in a] == [
        "publish",
        "certify",
        "certify",
        "decertify",
        "amend-rules",
    ]


def test_a_replay_reproduces_the_log_and_every_publication_byte_for_byte(
    original: WarehousePaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    replayed = WarehousePaths(tmp_path / "replayed")
    assert cli("replay", replayed.root, "--warehouse", original.root) == 0
    # The refused certification committed nothing: its writer stopped with an error, and so it is
    # journaled again, not applied.
    assert "certify not replayed: its writer stopped" in capsys.readouterr().out

    assert log_rows(replayed) == log_rows(original)  # every column, recorded_at and hashes included
    assert checksums(replayed) == checksums(original)
    assert publications(replayed) == publications(original)
    assert len(publications(original)) == 7  # the revocation published one, replayed with it
    # The replay journals what it was given exactly as the original did: it can be replayed again.
    journal = "receipts.jsonl"
    assert (replayed.archive / journal).read_bytes() == (original.archive / journal).read_bytes()
    assert cli("verify", "--warehouse", replayed.root) == 0


def test_rebuild_leaves_every_publication_identical_and_restores_a_lost_one(
    original: WarehousePaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = WarehousePaths(tmp_path / "copy")
    shutil.copytree(original.root, copy.root)
    before = publications(copy)
    lost = sorted(before)[1]
    os.chmod(copy.publications / lost, 0o755)
    shutil.rmtree(copy.publications / lost)

    assert cli("rebuild", "--warehouse", copy.root) == 0
    assert f"wrote the missing folder of publication {lost}" in capsys.readouterr().out
    assert publications(copy) == before
    assert log_rows(copy) == log_rows(original)
    # Every file rendered again from the events is the file published.
    with duckdb.connect(str(copy.database), read_only=True) as conn:
        for pub_id, files in before.items():
            rendered = rebuild_publication(conn, pub_id)
            assert rendered == {name: data for name, data in files.items() if name != MANIFEST}, pub_id


def test_a_journal_written_before_options_and_times_still_replays(
    original: WarehousePaths, tmp_path: Path
) -> None:
    """Old receipts (no recorded_at, no options, no operator actions): the same results from the files
    and runs, but a new chain (recorded_at is the replay's clock) and no manual publications."""
    old = WarehousePaths(tmp_path / "old")
    shutil.copytree(original.root, old.root)
    lines = []
    for line in (original.archive / "receipts.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if "action" in entry:
            continue
        for key in ("recorded_at", "options", "publish"):
            entry.pop(key, None)
        lines.append(json.dumps(entry))
    receipts = old.archive / "receipts.jsonl"
    receipts.write_text("\n".join(lines) + "\n")

    replayed = WarehousePaths(tmp_path / "replayed-old")
    summary = replay_archive(old, replayed.root)
    assert len(summary.files) == 6
    spoiled = next(f for f in summary.files if f.file_name == "spoiled.csv")
    assert spoiled.status == "partly quarantined"  # the row policy: the file policy was not journaled
    assert [h for *_, h in log_rows(replayed)] != [h for *_, h in log_rows(original)]


def _stopped_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, overlap: bool) -> WarehousePaths:
    """A warehouse whose second run stopped (an error; a kill leaves the same trace) in its second
    commit of projections, then ran again. With `overlap`, c.csv resends one of b.csv's protocols,
    so the two files are decided and committed one after the other and the run stops in c.csv;
    without, they are committed together and the run stops after appending their events."""
    warehouse = tmp_path / "warehouse"
    rows = [protocol(pid, (300 + i, 120, 80 - i, 25)) for i, pid in enumerate(precinct_ids(9))]
    inbox = tmp_path / "inbox"
    ingest_paths(
        [write_declaration(inbox, 9), write_protocols(inbox, "a.csv", rows[:3])], warehouse=warehouse
    )
    files = [
        write_protocols(inbox, "b.csv", rows[3:6]),
        write_protocols(inbox, "c.csv", rows[6:] + (rows[3:4] if overlap else [])),
    ]
    calls: list[int] = []

    def fail_on_the_second_call(conn: duckdb.DuckDBPyConnection) -> None:
        calls.append(1)
        if len(calls) == (2 if overlap else 1):
            raise RuntimeError("the writer stops here")
        update_projections(conn)

    with monkeypatch.context() as patch:
        patch.setattr("pipelines.ingestion.ingest.update_projections", fail_on_the_second_call)
        with pytest.raises(RuntimeError, match="the writer stops here"):
            ingest_paths(files, warehouse=warehouse)
    rerun = ingest_paths(files, warehouse=warehouse)
    assert [f.status for f in rerun.files] == (
        ["duplicate", "applied"] if overlap else ["applied", "applied"]
    )
    original = WarehousePaths(warehouse)
    interrupted = [e for e in map(json.loads, (original.archive / "receipts.jsonl").read_text().splitlines())
                   if "interrupted" in e]  # fmt: skip
    assert len(interrupted) == 1
    return original


@pytest.mark.parametrize("overlap", [True, False], ids=["files-committed-apart", "files-committed-together"])
def test_a_writer_stopped_in_the_middle_of_a_run_replays_as_it_went(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, overlap: bool
) -> None:
    """The replay must not apply a file the stopped writer did not commit at its first receipt
    (another recorded_at, another hash): neither the file it stopped in nor, when files were
    committed together, the others of that commit."""
    original = _stopped_run(tmp_path, monkeypatch, overlap=overlap)
    replayed = WarehousePaths(tmp_path / "replayed")
    summary = replay_archive(original, replayed.root)
    not_replayed = [n for n in summary.notes if "its writer stopped before it committed anything" in n]
    assert not_replayed == [f"{name}.csv not replayed: its writer stopped before it committed anything"
                            for name in (["c"] if overlap else ["b", "c"])]  # fmt: skip
    assert log_rows(replayed) == log_rows(original)
    assert publications(replayed) == publications(original)
    journal = "receipts.jsonl"
    assert (replayed.archive / journal).read_bytes() == (original.archive / journal).read_bytes()


def test_a_path_refused_unread_is_journaled_and_refused_again_on_replay(tmp_path: Path) -> None:
    """Intake refuses a symbolic link without reading it: nothing is archived, so the refusal itself is
    journaled, and the replay records the same BatchQuarantined at the same position."""
    inbox = tmp_path / "inbox"
    rows = [protocol(pid) for pid in precinct_ids(4)]
    write_declaration(inbox, 4)
    write_protocols(tmp_path / "elsewhere", "target.csv", rows[:2])
    (inbox / "linked.csv").symlink_to(tmp_path / "elsewhere" / "target.csv")
    write_protocols(inbox, "b.csv", rows[2:])
    original = WarehousePaths(tmp_path / "warehouse")
    summary = ingest_paths([inbox], warehouse=original.root)
    assert sorted(f.status for f in summary.files) == ["applied", "applied", "quarantined"]
    assert '"action":"refuse-unread"' in (original.archive / "receipts.jsonl").read_text()

    replayed = WarehousePaths(tmp_path / "replayed")
    replay_archive(original, replayed.root)
    assert log_rows(replayed) == log_rows(original)
    assert publications(replayed) == publications(original)


def test_a_certification_stopped_between_its_override_and_its_table_replays_as_far_as_it_got(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The override committed, the certified table did not; then certified again with an override.
    The replay commits the first override only, as the original did."""
    warehouse = tmp_path / "warehouse"
    inbox = tmp_path / "inbox"
    rows = [protocol(pid) for pid in precinct_ids(5)]
    ingest_paths(
        [write_declaration(inbox, 5), write_protocols(inbox, "a.csv", rows[:3])], warehouse=warehouse
    )
    original = WarehousePaths(warehouse)
    calls: list[int] = []

    def stop_at_the_table(conn: duckdb.DuckDBPyConnection) -> int:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the writer stops here")
        return update_projections(conn)

    with monkeypatch.context() as patch:
        patch.setattr("pipelines.publishing.publication.update_projections", stop_at_the_table)
        with pytest.raises(RuntimeError, match="the writer stops here"):
            cli("publish", "--certify", "--override-reason", "flood", "--warehouse", warehouse)
    assert cli("publish", "--certify", "--override-reason", "flood", "--warehouse", warehouse) == 0
    types = [r[3] for r in log_rows(original)]
    assert types.count("CertificationOverridden") == 2 and types[-1] == "ResultsCertified"

    replayed = WarehousePaths(tmp_path / "replayed")
    summary = replay_archive(original, replayed.root)
    assert "certify replayed as far as its writer got" in summary.notes
    assert log_rows(replayed) == log_rows(original)
    assert publications(replayed) == publications(original)
