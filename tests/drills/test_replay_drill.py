"""Rebuilding from the log gives byte-identical projections and publications; replaying the archive's
journal gives the same log (every hash) and the same projections and publications."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from types import ModuleType

import duckdb
import pytest

import pipelines.ingestion.ingest
import pipelines.publishing.publication
from pipelines.core.paths import WarehousePaths
from pipelines.ingestion.ingest import ingest_paths
from pipelines.ingestion.replay import replay_archive
from pipelines.publishing.publication_check import check_folder as verify_publication
from pipelines.publishing.publication_files import publication_folder_files
from pipelines.publishing.publication_layout import MANIFEST
from pipelines.store.event_store import EventStore
from pipelines.store.projections import projection_checksums, rebuild_projections, update_projections
from tests.drills.support import assert_store_sound, seat_table
from tests.support.small_election import protocol, write_protocols

pytestmark = pytest.mark.xdist_group("drills")  # one worker, one memo of gate outcomes


@pytest.fixture(scope="module")
def original(
    election_files: list[Path], later_files: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> WarehousePaths:
    """A night in four runs: duplicates, an amendment, an annulment and a quarantined row included."""
    declaration, first, second, third = election_files
    inbox = tmp_path_factory.mktemp("replay-inbox")
    bad = write_protocols(inbox, "bad-row.csv", [protocol("P999", (1, 2, 3, 4))])
    warehouse = tmp_path_factory.mktemp("replay") / "warehouse"
    for run in ([declaration, first], [second, first], [later_files[0], third, bad], [later_files[1]]):
        ingest_paths(run, warehouse=warehouse)
    assert_store_sound(warehouse)
    return WarehousePaths(warehouse)


def test_rebuild_from_the_log_is_byte_identical(original: WarehousePaths) -> None:
    with EventStore.open_writer(original) as store:
        before = projection_checksums(store.conn)
        with store.transaction():
            rebuild_projections(store.conn)
        after = projection_checksums(store.conn)
        conn = store.conn
        folders = [f for f in original.publications.iterdir() if not f.name.startswith(".")]
        assert len(folders) == 4
        for folder in folders:
            assert verify_publication(folder) == []
            rebuilt = publication_folder_files(conn, folder.name)
            on_disk = {p.name: p.read_bytes() for p in folder.iterdir()}
            assert MANIFEST in rebuilt and rebuilt == on_disk, folder.name  # the manifest too
    assert after == before


def test_replaying_the_archive_gives_the_same_log_and_publications(
    original: WarehousePaths, tmp_path: Path
) -> None:
    replay_archive(original, tmp_path / "replayed")

    def sums(warehouse: Path) -> tuple[dict[str, str], list[tuple[object, ...]]]:
        # Publications included: a replay publishes where and when the original runs published.
        with duckdb.connect(str(WarehousePaths(warehouse).database), read_only=True) as conn:
            hashes = conn.execute(
                "SELECT position, recorded_at, event_hash FROM events ORDER BY 1"
            ).fetchall()
            return projection_checksums(conn), hashes

    assert sums(tmp_path / "replayed") == sums(original.root)
    replayed = WarehousePaths(tmp_path / "replayed").publications
    for folder in (f for f in original.publications.iterdir() if not f.name.startswith(".")):
        for file in folder.iterdir():  # the manifest too: it holds no wall clock
            assert (replayed / folder.name / file.name).read_bytes() == file.read_bytes(), file
    assert seat_table(tmp_path / "replayed") == seat_table(original.root)
    assert_store_sound(tmp_path / "replayed")


@pytest.mark.parametrize(
    "killed_in",
    [pipelines.ingestion.ingest, pipelines.publishing.publication],
    ids=["applying", "publishing"],
)
def test_a_writer_killed_mid_run_still_replays_to_the_same_log(
    election_files: list[Path], later_files: list[Path], killed_in: ModuleType, tmp_path: Path
) -> None:
    """SIGKILL while the files of a run are being applied (together, in one commit), or while the run
    publishes; the rerun completes it. The replay applies exactly what had committed: the same hashes
    and publications."""
    declaration, first, second, third = election_files
    warehouse = tmp_path / "warehouse"
    ingest_paths([declaration, first], warehouse=warehouse)
    run = [second, third, later_files[0]]
    pid = os.fork()
    if pid == 0:  # the writer that is killed at its first commit of projections in `killed_in`

        def killed(conn: duckdb.DuckDBPyConnection) -> int:
            os.kill(os.getpid(), signal.SIGKILL)
            return update_projections(conn)

        setattr(killed_in, "update_projections", killed)  # noqa: B010 (not exported by ingest)
        ingest_paths(run, warehouse=warehouse)
        os._exit(0)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == -signal.SIGKILL
    ingest_paths(run, warehouse=warehouse)  # the rerun
    original = WarehousePaths(warehouse)
    assert '"interrupted"' in (original.archive / "receipts.jsonl").read_text()
    replay_archive(original, tmp_path / "replayed")
    replayed = WarehousePaths(tmp_path / "replayed")

    def log(paths: WarehousePaths) -> list[tuple[object, ...]]:
        with duckdb.connect(str(paths.database), read_only=True) as conn:
            return conn.execute("SELECT position, recorded_at, event_hash FROM events ORDER BY 1").fetchall()

    assert log(replayed) == log(original)
    for folder in (f for f in original.publications.iterdir() if not f.name.startswith(".")):
        for file in folder.iterdir():
            if file.name != MANIFEST:
                assert (replayed.publications / folder.name / file.name).read_bytes() == file.read_bytes()
    assert_store_sound(tmp_path / "replayed")
