"""A run's files are validated and committed together, yet the log is the one that ingesting them one
at a time gives: the same events at the same positions with the same hashes, the same projections and
outcomes. The replay ingests each journaled file on its own, in its own commit, so comparing a run
with its replay compares the two ways."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from pipelines.core.paths import WarehousePaths
from pipelines.ingestion import ingest
from pipelines.ingestion.ingest import ingest_paths
from pipelines.ingestion.replay import replay_archive
from pipelines.store.projections import projection_checksums
from tests.support.small_election import (
    precinct_ids,
    protocol,
    protocol_csv,
    write_annulment,
    write_declaration,
    write_protocols,
)


def _night(inbox: Path) -> list[Path]:
    """Files of every kind a night brings, in arrival order: first reports, resent files, amendments,
    bad rows, an annulment, a precinct two files name, a file of another (undeclared) election."""
    ids = precinct_ids(24)
    rows = {pid: protocol(pid, (300 + i, 120, 80 - i % 7, 25)) for i, pid in enumerate(ids)}
    files = [write_declaration(inbox, 24)]
    for k in range(4):
        files.append(write_protocols(inbox, f"first-{k}.csv", [rows[p] for p in ids[k * 4 : k * 4 + 4]]))
    files.append(write_protocols(inbox, "resent.csv", [rows[p] for p in ids[:4]]))  # same rows, new file
    bad = dict(rows[ids[16]], ballots_cast=9999)  # does not add up
    files.append(write_protocols(inbox, "bad-row.csv", [bad, rows[ids[17]]]))
    amended = protocol(ids[5], (250, 170, 79, 25), version=2, reason="recount")
    conflict = dict(rows[ids[6]], invalid_ballots=21)  # another protocol of an accepted version
    files.append(write_protocols(inbox, "amend.csv", [amended, conflict]))
    files.append(write_annulment(inbox, "annul.csv", ids[8]))
    files.append(write_protocols(inbox, "after-annulment.csv", [rows[ids[8]], rows[ids[18]]]))
    files.append(write_protocols(inbox, "names-p19.csv", [rows[ids[19]]]))
    again = protocol(ids[19], (301, 119, 80, 25), version=2, reason="typo")
    files.append(write_protocols(inbox, "amends-p19.csv", [again]))  # the file before names it too
    other = inbox / "other-election.csv"
    other.write_bytes(protocol_csv([protocol(ids[20], election_id="undeclared-2030")]))
    files.append(other)
    files.append(write_protocols(inbox, "last.csv", [rows[p] for p in ids[20:]]))
    for offset, path in enumerate(files):
        os.utime(path, (1_700_000_000 + offset, 1_700_000_000 + offset))
    return files


def _log(paths: WarehousePaths) -> tuple[list[tuple[object, ...]], dict[str, str]]:
    with duckdb.connect(str(paths.database), read_only=True) as conn:
        events = conn.execute(
            "SELECT position, stream_id, stream_version, event_type, payload, recorded_at, event_hash "
            "FROM events ORDER BY position"
        ).fetchall()
        return events, projection_checksums(conn)


@pytest.mark.parametrize(
    "grouping",
    # Groups of two with the check of shared precincts blinded: every group but the first is gated
    # ahead, those that do share a precinct gated again.
    ["one group", "groups of two, shared precincts missed"],
)
def test_files_committed_together_give_the_log_of_files_committed_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, grouping: str
) -> None:
    if grouping != "one group":
        # Many groups: each group's gate runs while the one before it commits.
        monkeypatch.setattr(ingest, "WAITING_FILES", 2)
    if grouping.endswith("missed"):
        # As if sniffing missed the precincts two groups share: the later group is gated ahead anyway,
        # and the writer must notice it once the group before has committed, and gate it again.
        monkeypatch.setattr(ingest, "name_one_precinct", lambda files, others: False)
    original = WarehousePaths(tmp_path / "warehouse")
    inbox = tmp_path / "inbox"
    _night(inbox)
    summary = ingest_paths([inbox], warehouse=original.root)
    statuses = {f.file_name: f.status for f in summary.files}
    assert statuses["resent.csv"] == "duplicate"
    assert statuses["bad-row.csv"] == statuses["amend.csv"] == "partly quarantined"
    assert statuses["after-annulment.csv"] == "partly quarantined"
    assert statuses["other-election.csv"] == "quarantined"
    assert statuses["amends-p19.csv"] == "applied"
    commits = len(original.log_heads.read_text().splitlines())

    replayed = WarehousePaths(tmp_path / "replayed")
    replay = replay_archive(original, replayed.root)

    assert _log(replayed) == _log(original)
    assert [(f.file_name, f.status, f.rows_applied, f.problems) for f in replay.files] == [
        (f.file_name, f.status, f.rows_applied, f.problems) for f in summary.files
    ]
    # The replay commits each file on its own: the run committed its files in fewer commits.
    assert commits < len(replayed.log_heads.read_text().splitlines())
