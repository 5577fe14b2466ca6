"""What every fault drill checks after something went wrong: the store is whole and the result is right."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb

from pipelines.core.paths import WarehousePaths
from pipelines.publishing.publication_check import check_folder as verify_publication
from pipelines.store.event_store import verify_connection
from tests.support.small_election import precinct_ids, protocol, write_declaration, write_protocols

SeatRows = list[tuple[object, ...]]


def write_election(folder: Path, precincts: int = 60, files: int = 3) -> list[Path]:
    """A declaration and `files` protocol files of distinct precincts, in the order they are sent."""
    ids = precinct_ids(precincts)
    rows = [protocol(pid, (300 + i % 50, 120 + i % 30, 80 - i % 7, 20 + i % 3)) for i, pid in enumerate(ids)]
    share = len(rows) // files
    paths = [write_declaration(folder, precincts)]
    for k in range(files):
        part = rows[k * share : (k + 1) * share if k < files - 1 else len(rows)]
        paths.append(write_protocols(folder, f"protocols-{k + 1}.csv", part))
    return paths


def seat_table(warehouse: Path) -> SeatRows:
    with duckdb.connect(str(WarehousePaths(warehouse).database), read_only=True) as conn:
        return conn.execute(
            "SELECT list_id, name, votes, seats FROM proj_seat_table ORDER BY ballot_order"
        ).fetchall()


def precinct_votes(warehouse: Path) -> SeatRows:
    """Votes per precinct and list: the same whatever order the files came in."""
    with duckdb.connect(str(WarehousePaths(warehouse).database), read_only=True) as conn:
        return conn.execute("SELECT * FROM proj_precinct_votes ORDER BY ALL").fetchall()


def assert_store_sound(warehouse: Path, *, killed: bool = False) -> None:
    """The log verifies with its archive, no batch is partial, and no file is half-written. Right after
    a writer was `killed`, its last commit may not be anchored yet (the next writer anchors it)."""
    paths = WarehousePaths(warehouse)
    assert_archive_whole(paths)
    assert_publications_whole(paths)
    if paths.snapshot.exists():
        with duckdb.connect(str(paths.snapshot), read_only=True) as conn:
            report = verify_connection(conn)
            assert report.intact, f"snapshot: {report.problem}"
    if not paths.database.exists():
        return
    with duckdb.connect(str(paths.database), read_only=True) as conn:
        report = verify_connection(conn, paths)
        assert report.intact or (killed and report.kind == "unanchored"), report.problem
        if report.events == 0:
            return
        receipts = conn.execute(
            "SELECT batch_id, payload FROM events WHERE event_type = 'BatchReceived'"
        ).fetchall()
        applied = dict(
            conn.execute(
                "SELECT batch_id, count(*) FROM events WHERE event_type IN "
                "('ProtocolReported', 'ProtocolAmended', 'PrecinctAnnulled', 'ElectionDeclared') "
                "GROUP BY batch_id"
            ).fetchall()
        )
        for batch_id, payload in receipts:
            announced = json.loads(payload)["rows_applied"] or (1 if batch_id in applied else 0)
            assert applied.get(batch_id, 0) == announced, f"batch {batch_id[:12]} is partial"
        facts, protocol_events = conn.execute(
            "SELECT (SELECT count(*) FROM protocol_facts), (SELECT count(*) FROM events "
            "WHERE event_type IN ('ProtocolReported', 'ProtocolAmended'))"
        ).fetchall()[0]
        assert facts == protocol_events


def assert_archive_whole(paths: WarehousePaths) -> None:
    """Every content-addressed file holds exactly the bytes its name promises; the receipts log parses.

    Dot-prefixed temporaries of a killed write may remain: they are never read as archived files.
    """
    if not paths.archive.exists():
        return
    for path in paths.archive.rglob("*"):
        if path.is_dir() or path.name.startswith(".") or path.name == "receipts.jsonl":
            continue
        assert path.parent.name == path.name[:2], f"unexpected file {path} in the archive"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name, f"{path} is partial"
    log = paths.archive / "receipts.jsonl"
    if log.exists():
        for line in log.read_text(encoding="utf-8").splitlines():
            json.loads(line)


def assert_publications_whole(paths: WarehousePaths) -> None:
    if not paths.publications.exists():
        return
    for folder in paths.publications.iterdir():
        if folder.name.startswith("."):
            continue  # a staging folder of a killed writer, never renamed into place
        assert verify_publication(folder) == [], folder.name


def assert_every_publication_has_its_folder(warehouse: Path) -> None:
    """After a completed run, each recorded publication has been written out."""
    paths = WarehousePaths(warehouse)
    with duckdb.connect(str(paths.database), read_only=True) as conn:
        recorded = {r[0] for r in conn.execute("SELECT publication_id FROM proj_publications").fetchall()}
    missing = sorted(p for p in recorded if not (paths.publications / p).is_dir())
    assert not missing, f"publications without a folder: {missing}"
