"""The input journal (`receipts.jsonl`): every receipt carries what shaped its ingest and the time its
events were recorded, operator actions are journaled, and each line is on disk before it is relied on."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import duckdb
import pytest

from pipelines.cli.main import main
from pipelines.core.paths import WarehousePaths
from pipelines.gate.validation import ValidationPolicy
from pipelines.ingestion.ingest import ingest_paths
from pipelines.ingestion.replay import replay_archive
from pipelines.publishing.publication_layout import CURRENT_PUBLICATION_FORMAT
from pipelines.store.event_store import EventStore
from pipelines.store.raw_archive import RawArchive
from tests.support.small_election import (
    ELECTION_ID,
    precinct_ids,
    protocol,
    write_declaration,
    write_protocols,
)


def journal(paths: WarehousePaths) -> list[dict[str, object]]:
    lines = (paths.archive / "receipts.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_receipts_carry_the_ingest_options_and_fsync_before_each_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = WarehousePaths(tmp_path / "wh")
    rows = [protocol(pid) for pid in precinct_ids(6)]
    files = [write_declaration(tmp_path / "in", 6), write_protocols(tmp_path / "in", "a.csv", rows)]
    trace: list[str] = []
    real_fsync, real_transaction = os.fsync, EventStore.transaction

    def traced_fsync(fd: int) -> None:
        trace.append("fsync " + os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    @contextmanager
    def traced_transaction(store: EventStore) -> Iterator[None]:
        with real_transaction(store):
            yield
        trace.append("commit")

    monkeypatch.setattr(os, "fsync", traced_fsync)
    monkeypatch.setattr(EventStore, "transaction", traced_transaction)
    policy = ValidationPolicy(mode="file", day_allowance=Fraction(1, 20))
    ingest_paths(files, warehouse=paths.root, election_id=ELECTION_ID, policy=policy)

    receipts_file = f"fsync {paths.archive.resolve() / 'receipts.jsonl'}"
    assert trace.count(receipts_file) == len(journal(paths)) == 3  # two files and the run's end
    assert f"fsync {paths.archive.resolve()}" in trace  # the folder, when the journal was created
    commits = [i for i, step in enumerate(trace) if step == "commit"]
    assert len(commits) == 3  # declaration, protocols, publication
    for before, commit in zip([-1, *commits], commits, strict=False):
        assert receipts_file in trace[before + 1 : commit], f"commit {commit} relies on an unsynced line"

    declaration, protocols, run_end = journal(paths)
    expected: dict[str, object] = {
        "format": "protocol",
        "election": ELECTION_ID,
        "policy": policy.to_options(),
    }
    assert declaration["options"] == protocols["options"] == expected
    assert ValidationPolicy.from_options(policy.to_options()) == policy
    assert protocols["options"]["policy"]["day_allowance"] == "1/20"
    assert set(run_end) == {"run_end", "publish", "publication_format"} and run_end["publish"] is True
    assert run_end["publication_format"] == CURRENT_PUBLICATION_FORMAT  # what a replay publishes
    with duckdb.connect(str(paths.database), read_only=True) as conn:
        recorded = conn.execute(
            "SELECT DISTINCT recorded_at FROM events WHERE batch_id = ?",
            [protocols["sha256"]],
        ).fetchall()
        published = conn.execute(
            "SELECT occurred_at, recorded_at FROM events WHERE event_type = 'ResultsPublished'"
        ).fetchall()
    assert recorded == [(datetime.fromisoformat(str(protocols["recorded_at"])),)]
    at = str(run_end["run_end"])
    assert [(o.isoformat(), r.isoformat()) for o, r in published] == [(at, at)]


def test_operator_actions_are_journaled_with_their_time_and_options(tmp_path: Path) -> None:
    paths = WarehousePaths(tmp_path / "wh")
    files = [
        write_declaration(tmp_path / "in", 4),
        write_protocols(tmp_path / "in", "a.csv", [protocol(p) for p in precinct_ids(3)]),
    ]
    ingest_paths(files, warehouse=paths.root, publish_results=False)
    assert (
        main(["publish", "--certify", "--override-reason", "P004 flooded", "--warehouse", str(paths.root)])
        == 0
    )

    *_, run_end, certify = journal(paths)
    assert run_end["publish"] is False and "publication_format" not in run_end  # it published nothing
    assert certify["action"] == "certify"
    options = certify["options"]
    assert isinstance(options, dict)
    assert options["election"] == ELECTION_ID and options["override_reason"] == "P004 flooded"
    assert options["publication_format"] == CURRENT_PUBLICATION_FORMAT
    with duckdb.connect(str(paths.database), read_only=True) as conn:
        times = conn.execute(
            "SELECT event_type, occurred_at, recorded_at FROM events "
            "WHERE event_type IN ('CertificationOverridden', 'ResultsCertified') ORDER BY position"
        ).fetchall()
    at = str(certify["at"])
    assert [(t, o.isoformat(), r.isoformat()) for t, o, r in times] == [
        ("CertificationOverridden", at, at),
        ("ResultsCertified", at, at),
    ]


def test_a_line_cut_short_by_a_killed_writer_is_dropped_by_the_next_writer(tmp_path: Path) -> None:
    """A writer killed while appending a journal line leaves it without its newline (never on disk
    whole, nothing committed on it): readers ignore it, the next writer cuts it off and notes the
    interruption, and the journal still replays to the same log."""
    paths = WarehousePaths(tmp_path / "wh")
    rows = [protocol(pid) for pid in precinct_ids(6)]
    ingest_paths([write_declaration(tmp_path / "in", 6), write_protocols(tmp_path / "in", "a.csv", rows[:3])],
                 warehouse=paths.root)  # fmt: skip
    journal_file = paths.archive / "receipts.jsonl"
    whole = journal_file.read_bytes()
    journal_file.write_bytes(whole + b'{"sha256":"ab12","name":"b.cs')
    paths.writer_lock.write_text("pid 999999")  # the killed writer's name, never cleared
    assert len(RawArchive(paths.archive).journal()) == 3

    ingest_paths([write_protocols(tmp_path / "in", "b.csv", rows[3:])], warehouse=paths.root)
    entries = journal(paths)
    assert journal_file.read_bytes().startswith(whole + b'{"head":')  # the cut line is gone
    assert [("interrupted" in e, e.get("name")) for e in entries[3:]] == [
        (True, None),
        (False, "b.csv"),
        (False, None),
    ]
    replayed = WarehousePaths(tmp_path / "replayed")
    replay_archive(paths, replayed.root)
    sql = "SELECT position, recorded_at, event_hash FROM events ORDER BY position"
    with (
        duckdb.connect(str(paths.database), read_only=True) as a,
        duckdb.connect(str(replayed.database), read_only=True) as b,
    ):
        assert a.execute(sql).fetchall() == b.execute(sql).fetchall()
