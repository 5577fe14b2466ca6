"""The readers' snapshot brought up to date by delta is the database, table for table, after every kind of
write; a write that cannot go by delta copies the whole database; a writer killed anywhere in the refresh
leaves readers on a whole generation and the next writer puts the snapshot right."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

import pipelines.store.snapshot as snapshot
import pipelines.store.snapshot_delta as snapshot_delta
from pipelines.cli.main import main
from pipelines.core.errors import EXIT_QUARANTINED
from pipelines.core.paths import WarehousePaths
from pipelines.domain.event_types import PrecinctAnnulled
from pipelines.ingestion.ingest import ingest_paths
from pipelines.ingestion.openelections_ingest import ingest_openelections
from pipelines.store.event_store import EventStore, remove_leftovers, verify_connection
from pipelines.store.projections import update_projections
from pipelines.store.queries import query
from tests.integration.test_openelections_ingest import FIXTURE
from tests.support.small_election import (
    ELECTION_ID,
    precinct_ids,
    protocol,
    write_annulment,
    write_declaration,
    write_protocols,
)

# What a database defines: tables, views, macros (with their parameters), indexes.
CATALOG = (
    "SELECT 'table', table_name, sql FROM duckdb_tables() WHERE database_name = ? "
    "UNION ALL SELECT 'view', view_name, sql FROM duckdb_views() WHERE database_name = ? AND NOT internal "
    "UNION ALL SELECT 'macro', function_name, parameters::VARCHAR || macro_definition "
    "FROM duckdb_functions() WHERE database_name = ? AND function_type IN ('macro', 'table_macro') "
    "UNION ALL SELECT 'index', index_name, sql FROM duckdb_indexes() WHERE database_name = ? ORDER BY ALL"
)
AT = datetime(2021, 1, 10, 23, 0)
OE_LATER = "county,precinct,office,district,party,candidate,votes\nCole,C1,Governor,,DEM,Ann Smith,40\n"
ROWS = [protocol(pid, (300 + 7 * i, 120 + i, 80 - i, 20 + i % 4)) for i, pid in enumerate(precinct_ids(12))]


def cli(*args: str | Path) -> int:
    return main([str(a) for a in args])


@pytest.fixture(autouse=True)
def small_databases_by_delta(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test warehouses are small enough that a whole copy would be cheaper: go by delta anyway."""
    monkeypatch.setattr(snapshot, "WHOLE_COPY_UP_TO_BYTES", 0)


@pytest.fixture
def refreshes(monkeypatch: pytest.MonkeyPatch) -> list[snapshot.Refreshed]:
    """Every refresh of the readers' snapshot, as it went (by delta or whole)."""
    seen: list[snapshot.Refreshed] = []
    original = snapshot.refresh_snapshot

    def recorded(*args: Any, **kwargs: Any) -> snapshot.Refreshed:
        seen.append(original(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(snapshot, "refresh_snapshot", recorded)
    return seen


def differences(paths: WarehousePaths) -> list[str]:
    """Where the generation the snapshot names differs from the database: catalog (tables, views,
    macros, indexes), row counts, rows (EXCEPT ALL both ways)."""
    generation = snapshot.current_generation(paths)
    assert generation is not None and paths.snapshot.resolve() == generation
    found = []
    with duckdb.connect(str(paths.database), read_only=True) as conn:
        conn.execute(f"ATTACH '{generation}' AS gen (READ_ONLY)")
        main_name = str(conn.execute("SELECT current_database()").fetchall()[0][0])
        catalogs = [conn.execute(CATALOG, [d, d, d, d]).fetchall() for d in (main_name, "gen")]
        if catalogs[0] != catalogs[1]:
            found.append(f"catalog: {set(catalogs[0]) ^ set(catalogs[1])}")
        tables = [str(name) for kind, name, _ in catalogs[0] if kind == "table"]
        assert "events" in tables and "proj_precinct_results" in tables
        for table in tables:
            counts = [
                conn.execute(f'SELECT count(*) FROM {d}."{table}"').fetchall()[0][0]
                for d in (main_name, "gen")
            ]
            missing = conn.execute(
                f'SELECT count(*) FROM (FROM "{table}" EXCEPT ALL FROM gen."{table}")'
            ).fetchall()
            extra = conn.execute(
                f'SELECT count(*) FROM (FROM gen."{table}" EXCEPT ALL FROM "{table}")'
            ).fetchall()
            if counts[0] != counts[1] or missing[0][0] or extra[0][0]:
                found.append(f"{table}: {counts} rows, {missing[0][0]} missing, {extra[0][0]} extra")
    return found


def test_a_snapshot_followed_by_delta_is_the_database_after_every_kind_of_write(
    tmp_path: Path, refreshes: list[snapshot.Refreshed]
) -> None:
    warehouse = tmp_path / "warehouse"
    paths = WarehousePaths(warehouse)
    inbox = tmp_path / "inbox"

    def run(*args: str | Path, code: int = 0) -> Callable[[], bool]:
        return lambda: cli(*args, "--warehouse", warehouse) == code

    def oe(name: str, text: str) -> Callable[[], bool]:
        (inbox / "oe").mkdir(parents=True, exist_ok=True)
        (inbox / "oe" / name).write_text(text, encoding="utf-8")
        return lambda: bool(
            ingest_openelections([inbox / "oe" / name], warehouse=warehouse, election_id="oe")
        )

    amended = protocol("P002", (250, 170, 79, 25), version=2, reason="recount")
    spoiled = write_protocols(
        inbox / "3", "s.csv", [ROWS[5], {**protocol("P005", (1, 2, 3, 4)), "ballots_cast": 1}]
    )
    unpublished = write_protocols(inbox / "4", "c.csv", [*ROWS[8:10], amended])
    steps: list[tuple[str, Callable[[], bool], bool]] = [  # what, the write, whether by delta
        ("declared, first rows", run("ingest", write_declaration(inbox / "1", 12),
                                     write_protocols(inbox / "1", "a.csv", ROWS[:4])), False),
        ("more rows", run("ingest", write_protocols(inbox / "2", "b.csv", ROWS[4:8])), False),
        ("a file quarantined whole", run("ingest", spoiled, "--policy", "file", code=EXIT_QUARANTINED), True),
        ("rows and a correction, unpublished",
         lambda: bool(ingest_paths([unpublished], warehouse=warehouse, publish_results=False)), True),
        ("published by hand", run("publish", "--precincts"), True),
        ("an annulment", run("ingest", write_annulment(inbox / "3", "n.csv", "P003")), True),
        ("certified", run("publish", "--certify", "--override-reason", "flood"), True),
        ("decertified", run("decertify", "--election", ELECTION_ID, "--reason", "court", "--by", "C"), True),
        ("rules amended", run("amend-rules", "--election", ELECTION_ID, "--rules", "kz-mazhilis-2023",
                              "--reason", "new law", "--by", "Parliament"), True),
        ("OpenElections", oe("20201103__zz__general__precinct.csv", FIXTURE), True),
        ("OpenElections again", oe("later.csv", OE_LATER), True),
        ("rebuilt", run("rebuild"), False),  # derived tables rewritten without the log: copied whole
        ("after a rebuild", run("ingest", write_protocols(inbox / "6", "d.csv", ROWS[10:11])), True),
    ]  # fmt: skip
    for what, write, by_delta in steps:
        before = len(refreshes)
        assert write(), what
        assert len(refreshes) == before + 1, f"{what}: one refresh"
        assert refreshes[-1].by_delta == by_delta, what
        assert differences(paths) == [], what
    # Two generations stay: the one readers open and the one the next write brings up to date.
    assert len(snapshot.generations(paths)) == 2


def annul(warehouse: Path, precinct_id: str) -> None:
    """A write that goes by delta and costs next to nothing: one annulment, its projections moved."""
    event = PrecinctAnnulled(
        election_id=ELECTION_ID, precinct_id=precinct_id, occurred_at=AT, reason="r", decided_by="TEC",
        file_name="annul.csv", row=2,
    )  # fmt: skip
    with EventStore.open_writer(WarehousePaths(warehouse)) as store, store.transaction():
        store.append([event])
        update_projections(store.conn)


@pytest.fixture(scope="module")
def two_generations(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse whose snapshot has its two generations (two whole copies): the next write goes by delta."""
    warehouse = tmp_path_factory.mktemp("generations") / "warehouse"
    inbox = warehouse.parent / "inbox"
    ingest_paths([write_declaration(inbox, 12), write_protocols(inbox, "a.csv", ROWS)], warehouse=warehouse)
    annul(warehouse, "P001")
    return warehouse


def test_a_generation_a_reader_holds_or_one_changed_by_hand_is_copied_around(
    two_generations: Path, tmp_path: Path, refreshes: list[snapshot.Refreshed]
) -> None:
    warehouse = tmp_path / "warehouse"
    shutil.copytree(two_generations, warehouse, symlinks=True)
    paths = WarehousePaths(warehouse)
    held = snapshot.current_generation(paths)
    assert held is not None
    with duckdb.connect(str(paths.snapshot), read_only=True) as reader:
        seen = reader.execute("SELECT count(*) FROM proj_annulments").fetchall()
        annul(warehouse, "P002")  # by delta, into the other generation
        annul(warehouse, "P003")  # the held one is next: the database is copied whole instead
        assert [r.by_delta for r in refreshes] == [True, False]
        assert not held.exists()  # unlinked: no new reader finds it, this one reads on
        assert reader.execute("SELECT count(*) FROM proj_annulments").fetchall() == seen == [(1,)]
    assert differences(paths) == []
    annul(warehouse, "P004")
    assert refreshes[-1].by_delta and differences(paths) == []
    # Someone makes the next generation to update writable and changes a figure (no row count moves):
    # the change is not carried forward.
    changed = [g for g in snapshot.generations(paths) if g != snapshot.current_generation(paths)][-1]
    changed.chmod(0o644)
    with duckdb.connect(str(changed)) as conn:
        conn.execute("UPDATE proj_region_totals SET ballots_cast = ballots_cast + 1")
    annul(warehouse, "P005")
    assert not refreshes[-1].by_delta and differences(paths) == []


def test_a_snapshot_from_before_generations_is_replaced_by_the_link(
    two_generations: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse"
    shutil.copytree(two_generations, warehouse, symlinks=True)
    paths = WarehousePaths(warehouse)
    for generation in snapshot.generations(paths):
        generation.unlink()
    paths.snapshot.unlink()
    shutil.copyfile(paths.database, paths.snapshot)  # a plain copy, as writers made it before
    annul(warehouse, "P002")
    assert paths.snapshot.is_symlink() and differences(paths) == []


# Where a writer dies in a refresh by delta: inside the generation's transaction, after its COMMIT and
# CHECKPOINT, after its rename to the next number, after the link was replaced.
KILL_POINTS: dict[str, tuple[Any, str]] = {
    "in the transaction": (snapshot_delta, "update_projections"),
    "after the checkpoint": (snapshot, "_seal"),
    "after the rename": (snapshot, "_point_link"),
    "after the link": (snapshot, "fsync_folder"),
}


def _forked_write(arm: Callable[[], None], write: Callable[[], object]) -> None:
    pid = os.fork()
    if pid == 0:  # the writer: never returns into pytest
        try:
            arm()
            write()
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def _kill_at(point: str) -> Callable[[], None]:
    owner, attribute = KILL_POINTS[point]

    def arm() -> None:
        original = getattr(owner, attribute)

        def fatal(*args: Any, **kwargs: Any) -> Any:
            if point != "after the rename":  # die before the link is replaced, else after the call
                original(*args, **kwargs)
            os.kill(os.getpid(), signal.SIGKILL)

        setattr(owner, attribute, fatal)

    return arm


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_writer_killed_in_a_refresh_leaves_readers_a_whole_generation(
    point: str, two_generations: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse"
    shutil.copytree(two_generations, warehouse, symlinks=True)
    paths = WarehousePaths(warehouse)
    before = _snapshot_head(paths)
    _forked_write(_kill_at(point), lambda: annul(warehouse, "P002"))
    after = _snapshot_head(paths)  # a whole generation: the chain verifies, its projections reach its head
    assert after == before if point != "after the link" else after > before
    # The next writer removes what was left and puts the snapshot on the database again.
    remove_leftovers(paths)
    assert len(snapshot.generations(paths)) <= 2
    annul(warehouse, "P003")
    assert differences(paths) == []


def _snapshot_head(paths: WarehousePaths) -> int:
    with duckdb.connect(str(paths.snapshot), read_only=True) as conn:
        report = verify_connection(conn)
        assert report.intact, report.problem
        head = conn.execute(query("log_head_position")).fetchall()[0][0]
        assert conn.execute("SELECT position FROM projection_checkpoints").fetchall() == [(head,)]
        return int(head)
