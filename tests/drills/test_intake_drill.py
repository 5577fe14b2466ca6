"""Intake attacks: what lands in the inbox (or is named on the command line) cannot make intake read,
follow or skip anything it should not.

Every drill drops a file that WOULD change the results if it were read (an amendment moving a
precinct's votes) behind the attack, and asserts the attack is refused or deferred, the target's
bytes never reach the archive, and nothing published changed. The election-night path is driven
through the functions the Airflow tasks call (`pending_files`, `ingest_pending`), on real files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

import pipelines.gate.intake
from pipelines.cli.main import main
from pipelines.core.errors import EXIT_OK, EXIT_QUARANTINED
from pipelines.core.paths import WarehousePaths
from pipelines.gate.intake import MAX_FILE_BYTES_ENV, PROCESSED, REFUSED, IntakeFile, read_intake_file
from pipelines.ingestion.inbox import CLAIMS, SETTLE_SECONDS_ENV, claim
from pipelines.ingestion.ingest import Ingestor, ingest_paths
from pipelines.orchestration.dag_tasks import ingest_pending, pending_files
from tests.drills.support import SeatRows, assert_store_sound, precinct_votes, seat_table, write_election
from tests.support.small_election import declaration, protocol, protocol_csv, write_protocols

pytestmark = [pytest.mark.xdist_group("drills"), pytest.mark.timeout(120)]

# Moves P002's votes to one list: reading this file would change what is published.
MOVED = protocol("P002", (900, 0, 0, 0), invalid=20, version=2, reason="attack")
FIRST = protocol("P003", (380, 120, 60, 20), version=2, reason="recount")
CORRECTED = protocol("P003", (100, 300, 60, 20), version=3, reason="corrected count")


@pytest.fixture(scope="module")
def baseline(election_files: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding the drills' election, published."""
    warehouse = tmp_path_factory.mktemp("intake-baseline") / "warehouse"
    ingest_paths(election_files, warehouse=warehouse)
    return warehouse


@dataclass
class Night:
    inbox: Path
    warehouse: Path
    outside: Path  # where an attacker keeps what the links point at

    def published(self) -> tuple[SeatRows, SeatRows, list[str]]:
        folders = sorted(p.name for p in WarehousePaths(self.warehouse).publications.iterdir())
        return seat_table(self.warehouse), precinct_votes(self.warehouse), folders

    def archived(self) -> set[str]:
        archive = WarehousePaths(self.warehouse).archive
        return {p.name for p in archive.rglob("*") if p.is_file() and len(p.name) == 64}

    def quarantine(self) -> list[tuple[str, str]]:
        with duckdb.connect(str(WarehousePaths(self.warehouse).database), read_only=True) as conn:
            rows = conn.execute("SELECT file_name, rule FROM proj_quarantine ORDER BY position").fetchall()
        return [(str(name), str(rule)) for name, rule in rows]

    def run(self) -> dict[str, Any]:
        """One election-night run, as the DAG makes it: scan, then ingest what is pending."""
        return ingest_pending(pending_files(self.inbox), inbox=self.inbox, warehouse=self.warehouse)


@pytest.fixture
def night(baseline: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Night:
    monkeypatch.setenv(SETTLE_SECONDS_ENV, "0")
    warehouse = tmp_path / "warehouse"
    shutil.copytree(baseline, warehouse)
    inbox, outside = tmp_path / "inbox", tmp_path / "outside"
    inbox.mkdir()
    outside.mkdir()
    return Night(inbox, warehouse, outside)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _refused_names(night: Night) -> list[str]:
    return sorted(str(p.relative_to(night.inbox / REFUSED)) for p in (night.inbox / REFUSED).rglob("*"))


# -- links --------------------------------------------------------------------------------------


def test_a_symlink_to_a_file_outside_the_inbox_is_refused_and_its_target_never_archived(night: Night) -> None:
    target = write_protocols(night.outside, "secret.csv", [MOVED])
    fifo = night.outside / "pipe"
    os.mkfifo(fifo)  # reading through this link would block forever
    (night.inbox / "amendment.csv").symlink_to(target)
    (night.inbox / "stuck.csv").symlink_to(fifo)
    before, archived = night.published(), night.archived()

    result = night.run()

    assert result["refused_unread"] == 2
    assert ("amendment.csv", "symlink") in night.quarantine()
    assert ("stuck.csv", "symlink") in night.quarantine()
    assert _sha(target) not in night.archived() and night.archived() == archived
    assert night.published() == before
    assert _refused_names(night) == ["amendment.csv", "stuck.csv"]
    assert all((night.inbox / REFUSED / n).is_symlink() for n in _refused_names(night))  # moved, not copied
    assert target.read_bytes() and fifo.exists()  # the targets are untouched
    assert pending_files(night.inbox) == []  # the next run does not see them again
    assert_store_sound(night.warehouse)


def test_a_symlinked_folder_is_refused_not_walked(night: Night) -> None:
    target = write_protocols(night.outside / "north", "north.csv", [MOVED])
    (night.inbox / "north").symlink_to(night.outside / "north", target_is_directory=True)
    before, archived = night.published(), night.archived()

    night.run()

    assert night.quarantine()[-1] == ("north", "symlink")
    assert _sha(target) not in night.archived() and night.archived() == archived
    assert night.published() == before
    assert (night.inbox / REFUSED / "north").is_symlink()
    assert target.exists()


def test_the_command_line_follows_no_link_either_and_exits_quarantined(
    night: Night, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = night.inbox.parent / "delivery"
    target = write_protocols(night.outside, "secret.csv", [MOVED])
    (folder / "deep").mkdir(parents=True)
    (folder / "deep" / "amendment.csv").symlink_to(target)
    (folder / "linked").symlink_to(night.outside, target_is_directory=True)
    named_link = night.inbox.parent / "named.csv"
    named_link.symlink_to(target)
    before = night.published()

    code = main(["ingest", str(folder), str(named_link), "--warehouse", str(night.warehouse)])

    out = capsys.readouterr().out
    assert code == EXIT_QUARANTINED
    assert out.strip().splitlines()[-1] == "files: 0 accepted, 0 duplicate, 3 quarantined"
    assert out.count("[rule: symlink]") == 3
    assert _sha(target) not in night.archived()
    assert night.published() == before
    assert (folder / "deep" / "amendment.csv").is_symlink()  # the command line leaves files in place


def test_a_link_swapped_in_between_the_look_and_the_open_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = write_protocols(tmp_path / "outside", "secret.csv", [MOVED])
    fifo = tmp_path / "outside" / "pipe"
    os.mkfifo(fifo)
    real_open = pipelines.gate.intake._open_beneath

    def swap_then_open(source: IntakeFile, replacement: Path) -> int:
        source.path.unlink()
        source.path.symlink_to(replacement)
        return real_open(source)

    for replacement in (secret, fifo):
        inbox = tmp_path / f"inbox-{replacement.name}"
        path = write_protocols(inbox, "batch.csv", [CORRECTED])
        with monkeypatch.context() as patch:
            patch.setattr(
                pipelines.gate.intake, "_open_beneath", lambda s, r=replacement: swap_then_open(s, r)
            )
            refused = read_intake_file(IntakeFile(inbox, path.relative_to(inbox)))
        assert not isinstance(refused, bytes) and refused.rule == "symlink", refused

    # A FIFO put in place of the file (not a link) opens without blocking and is refused on fstat.
    inbox = tmp_path / "inbox-fifo"
    path = write_protocols(inbox, "batch.csv", [CORRECTED])

    def fifo_then_open(source: IntakeFile) -> int:
        source.path.unlink()
        os.mkfifo(source.path)
        return real_open(source)

    monkeypatch.setattr(pipelines.gate.intake, "_open_beneath", fifo_then_open)
    refused = read_intake_file(path)
    assert not isinstance(refused, bytes) and refused.rule == "changed_while_read", refused


# -- special files and size -----------------------------------------------------------------------


def test_a_fifo_in_the_inbox_is_refused_without_hanging(night: Night) -> None:
    os.mkfifo(night.inbox / "results.csv")
    before = night.published()

    night.run()  # pytest-timeout fails the drill if anything opens the FIFO for a blocking read

    assert night.quarantine()[-1] == ("results.csv", "not_regular_file")
    assert night.published() == before
    assert _refused_names(night) == ["results.csv"]


def test_an_oversized_sparse_file_is_refused_before_a_byte_is_read(
    night: Night, monkeypatch: pytest.MonkeyPatch
) -> None:
    huge = night.inbox / "huge.csv"
    with huge.open("wb") as handle:  # 64 GiB that take no disk: read into memory, it would not fit
        handle.truncate(64 * 1024**3)
    over = write_protocols(night.inbox, "over.csv", [MOVED, CORRECTED])  # valid, and over a low limit
    monkeypatch.setenv(MAX_FILE_BYTES_ENV, str(over.stat().st_size - 1))
    over_sha = _sha(over)
    reads: list[int] = []
    real_read = os.read

    def counted_read(fd: int, count: int) -> bytes:
        reads.append(count)
        return real_read(fd, count)

    monkeypatch.setattr(os, "read", counted_read)
    before, archived = night.published(), night.archived()

    night.run()

    assert reads == []  # neither file was opened for reading
    assert {("huge.csv", "file_too_large"), ("over.csv", "file_too_large")} <= set(night.quarantine())
    assert over_sha not in night.archived() and night.archived() == archived
    assert night.published() == before
    assert _refused_names(night) == ["huge.csv", "over.csv"]


def test_a_file_that_grows_past_the_limit_while_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_protocols(tmp_path, "batch.csv", [CORRECTED])
    monkeypatch.setenv(MAX_FILE_BYTES_ENV, str(path.stat().st_size + 10))
    real_open = pipelines.gate.intake._open_beneath

    def grow_then_open(source: IntakeFile) -> int:
        fd = real_open(source)
        with source.path.open("ab") as handle:
            handle.write(b"x" * 100)
        return fd

    monkeypatch.setattr(pipelines.gate.intake, "_open_beneath", grow_then_open)
    refused = read_intake_file(path)
    assert not isinstance(refused, bytes) and refused.rule in ("file_too_large", "changed_while_read")


# -- files still being written ------------------------------------------------------------------


def test_unfinished_uploads_are_never_read_and_a_file_being_written_is_left_for_the_next_run(
    night: Night, monkeypatch: pytest.MonkeyPatch
) -> None:
    part = write_protocols(night.inbox, "north.csv.part", [MOVED])
    hidden = write_protocols(night.inbox, ".south.csv", [MOVED])
    tmp = write_protocols(night.inbox, "east.csv.tmp", [MOVED])
    growing = night.inbox / "west.csv"
    rows = protocol_csv([CORRECTED])
    growing.write_bytes(rows[:40])
    monkeypatch.setenv(SETTLE_SECONDS_ENV, "1")
    stop = threading.Event()

    def keep_writing() -> None:  # an uploader writing in place, slowly
        with growing.open("ab", buffering=0) as handle:
            for byte in rows[40:]:
                if stop.is_set():
                    return
                handle.write(bytes([byte]))
                time.sleep(0.05)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    before = night.published()
    try:
        night.run()
        assert growing.exists() and not (night.inbox / PROCESSED / "west.csv").exists()  # left alone
        assert night.published() == before
    finally:
        stop.set()
        writer.join()
    for path in (part, hidden, tmp):
        assert path.exists() and _sha(path) not in night.archived()
    assert not (night.inbox / PROCESSED).exists() or not any((night.inbox / PROCESSED).iterdir())

    growing.write_bytes(rows)  # the upload completes
    past = time.time() - 5
    os.utime(growing, (past, past))
    night.run()
    assert (night.inbox / PROCESSED / "west.csv").read_bytes() == rows
    assert _sha(night.inbox / PROCESSED / "west.csv") in night.archived()
    assert night.published() != before
    assert part.exists() and hidden.exists() and tmp.exists()  # still never touched


# -- the rename race ------------------------------------------------------------------------------


@pytest.fixture
def renamed_in_during_ingest(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path, Path], None]]:
    """Arrange for `staged` to be renamed over `inbox_name` while the run ingests its first file."""
    pending: list[tuple[Path, Path]] = []
    real = Ingestor.take

    def ingest_then_rename(self: Ingestor, *args: Any, **kwargs: Any) -> Any:
        while pending:
            staged, target = pending.pop()
            os.rename(staged, target)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Ingestor, "take", ingest_then_rename)
    yield lambda staged, target: pending.append((staged, target))


def test_a_corrected_file_renamed_in_during_a_run_is_ingested_by_the_next_never_skipped(
    night: Night, renamed_in_during_ingest: Callable[[Path, Path], None]
) -> None:
    first = write_protocols(night.inbox, "batch.csv", [FIRST])
    first_sha = _sha(first)
    corrected = write_protocols(night.outside, "batch.csv.part", [CORRECTED])
    corrected_sha = _sha(corrected)
    renamed_in_during_ingest(corrected, night.inbox / "batch.csv")

    night.run()

    assert first_sha in night.archived()
    assert corrected_sha not in night.archived()
    assert _sha(night.inbox / "batch.csv") == corrected_sha  # not moved to processed unread
    assert _sha(night.inbox / PROCESSED / "batch.csv") == first_sha
    after_first = precinct_votes(night.warehouse)

    night.run()

    assert corrected_sha in night.archived()
    assert not (night.inbox / "batch.csv").exists()
    assert _sha(night.inbox / PROCESSED / "batch.1.csv") == corrected_sha
    assert precinct_votes(night.warehouse) != after_first


def test_a_file_renamed_over_one_the_scan_listed_is_the_one_ingested(night: Night) -> None:
    write_protocols(night.inbox, "batch.csv", [FIRST])
    listed = pending_files(night.inbox)
    corrected = write_protocols(night.outside, "batch.csv", [CORRECTED])
    corrected_sha = _sha(corrected)
    os.rename(corrected, night.inbox / "batch.csv")

    ingest_pending(listed, inbox=night.inbox, warehouse=night.warehouse)

    assert corrected_sha in night.archived()
    assert _sha(night.inbox / PROCESSED / "batch.csv") == corrected_sha


def test_files_a_dead_run_had_claimed_are_taken_over_by_the_next(night: Night) -> None:
    batch = write_protocols(night.inbox / "north", "batch.csv", [CORRECTED])
    batch_sha = _sha(batch)
    claim(night.inbox, settle=0)  # a run claimed, then died before reading anything
    assert not batch.exists() and pending_files(night.inbox)
    before = night.published()

    result = night.run()

    assert result["files"] == 1
    assert batch_sha in night.archived()
    assert _sha(night.inbox / PROCESSED / "north" / "batch.csv") == batch_sha
    assert not any((night.inbox / CLAIMS).iterdir())
    assert night.published() != before
    assert pending_files(night.inbox) == []


# -- folders --------------------------------------------------------------------------------------


def test_folders_are_walked_recursively_and_profiles_and_sidecars_are_not_data(
    night: Night, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = night.inbox.parent / "delivery"
    deep = write_protocols(folder / "north" / "day1", "batch.csv", [CORRECTED])
    for name in ("profile.yaml", "profile.yml", "notes.json", "P.precincts.csv", "_READY"):
        (folder / name).write_text("not: data\n", encoding="utf-8")
    write_protocols(folder / ".hidden", "batch.csv", [MOVED])

    code = main(["ingest", str(folder), "--warehouse", str(night.warehouse)])

    out = capsys.readouterr().out.strip().splitlines()
    assert code == EXIT_OK
    assert out[0].split()[:2] == ["applied", "batch.csv"]
    assert out[-1] == "files: 1 accepted, 0 duplicate, 0 quarantined"
    assert _sha(deep) in night.archived()


def test_a_declaration_reads_its_sidecar_where_it_was_delivered_and_never_through_a_link(
    night: Night,
) -> None:
    def declare(folder: Path, election_id: str, voters: int) -> Path:
        data = declaration(12, election_id=election_id)
        precincts = data.pop("precincts")
        assert isinstance(precincts, list)
        data["precincts_csv"] = f"{election_id}.precincts.csv"
        folder.mkdir(parents=True, exist_ok=True)
        sidecar = night.outside / f"{election_id}.precincts.csv"
        sidecar.write_text(
            "precinct_id,region_id,registered_voters\n"
            + "".join(f"{p['precinct_id']},{p['region_id']},{voters}\n" for p in precincts),
            encoding="utf-8",
        )
        path = folder / f"{election_id}.election.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        return sidecar

    linked = declare(night.inbox / "linked", "linked-sidecar", 900)
    (night.inbox / "linked" / linked.name).symlink_to(linked)
    beside = declare(night.inbox / "north", "sidecar-beside", 1000)
    shutil.copy(beside, night.inbox / "north" / beside.name)
    before = night.published()

    night.run()

    assert ("linked-sidecar.election.json", "symlink") in night.quarantine()
    assert _sha(linked) not in night.archived()
    assert _sha(beside) in night.archived()  # read from the folder the declaration was delivered to
    assert (night.inbox / PROCESSED / "north" / "sidecar-beside.election.json").exists()
    assert (night.inbox / "north" / beside.name).exists()  # a sidecar is not data: it stays
    assert night.published() == before


def test_a_link_planted_where_the_inbox_keeps_its_files_moves_nothing_through_it(night: Night) -> None:
    (night.inbox / PROCESSED).symlink_to(night.outside, target_is_directory=True)
    (night.inbox / CLAIMS).symlink_to(night.outside, target_is_directory=True)
    batch = write_protocols(night.inbox, "batch.csv", [CORRECTED])
    batch_sha = _sha(batch)

    night.run()

    assert list(night.outside.iterdir()) == []  # nothing claimed or moved through the links
    assert not (night.inbox / PROCESSED).is_symlink()
    assert _sha(night.inbox / PROCESSED / "batch.csv") == batch_sha
    assert batch_sha in night.archived()


def test_a_night_delivered_in_sub_folders_is_taken_in_one_run_declaration_first(
    night: Night, tmp_path: Path
) -> None:
    files = write_election(night.inbox / "north", precincts=12, files=2)
    (night.inbox / "north" / files[1].name).rename(night.inbox / files[1].name)
    long_ago = time.time() - 3600
    for path in (night.inbox / files[1].name, files[2]):  # results older than their declaration
        os.utime(path, (long_ago, long_ago))
    warehouse = tmp_path / "fresh-warehouse"

    result = ingest_pending(pending_files(night.inbox), inbox=night.inbox, warehouse=warehouse)

    assert result["lines"][-1] == "files: 3 accepted, 0 duplicate, 0 quarantined", result["lines"]
    assert result["publications"]
    done = night.inbox / PROCESSED
    assert sorted(str(p.relative_to(done)) for p in done.rglob("*.*")) == sorted(
        [files[1].name, f"north/{files[0].name}", f"north/{files[2].name}"]
    )


def test_a_hard_link_to_a_file_outside_the_inbox_is_refused_unread(night: Night) -> None:
    target = write_protocols(night.outside, "secret.csv", [MOVED])
    os.link(target, night.inbox / "amendment.csv")
    before, archived = night.published(), night.archived()

    night.run()

    assert night.quarantine()[-1] == ("amendment.csv", "hard_link")
    assert _sha(target) not in night.archived() and night.archived() == archived
    assert night.published() == before
    assert _refused_names(night) == ["amendment.csv"]
    assert target.read_bytes() == protocol_csv([MOVED])


def test_the_openelections_path_takes_the_same_look_before_reading(
    night: Night, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = night.inbox.parent / "oe"
    folder.mkdir()
    target = night.outside / "20201103__ga__general__precinct.csv"
    target.write_text("county,precinct,office,district,party,candidate,votes\n", encoding="utf-8")
    (folder / target.name).symlink_to(target)
    os.mkfifo(folder / "20201103__ga__general__fulton__precinct.csv")

    code = main(
        [
            "ingest",
            "--format",
            "openelections",
            str(folder),
            "--election",
            "ga-2020",
            "--warehouse",
            str(night.warehouse),
        ]
    )

    out = capsys.readouterr().out
    assert code == EXIT_QUARANTINED
    assert "[rule: symlink]" in out and "[rule: not_regular_file]" in out
    assert _sha(target) not in night.archived()
