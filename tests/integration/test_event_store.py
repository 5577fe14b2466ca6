"""Contract of the event store, on real DuckDB files: append-only, ordered, versioned, hash-chained."""

from __future__ import annotations

import fcntl
import itertools
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.core.paths import WarehousePaths
from pipelines.domain.event_types import BatchReceived, ProtocolReported
from pipelines.domain.events import ProtocolFacts, StoredEvent
from pipelines.store.event_store import (
    HASH_TEXT_MACRO,
    ConcurrencyConflict,
    EventStore,
    WriterBusy,
    content_sql,
    verify_connection,
    votes_from_log,
    writer_lock,
)

AT = datetime(2021, 1, 10, 20, 30)
FIRST = "(SELECT min(position) FROM protocol_facts)"
LAST = "(SELECT max(position) FROM protocol_facts)"


def protocol_event(precinct: str, votes: int = 100, version: int = 1) -> ProtocolReported:
    facts = ProtocolFacts(
        precinct, "north", version, 1000, votes + 10, votes + 10, 10, 0, (("a", votes), ("b", 0))
    )
    return ProtocolReported(
        election_id="e", occurred_at=AT, batch_id="batch1", precinct_id=precinct, file_name="f.csv", row=2,
        protocol=facts,
    )  # fmt: skip


def receipt(name: str) -> BatchReceived:
    return BatchReceived(
        election_id="e",
        occurred_at=AT,
        batch_id=name,
        file_name=name,
        file_format="protocol-v1",
        size_bytes=1,
    )


@pytest.fixture(params=["fresh", "reopened"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    """The same contract must hold on a new file and on one closed and opened again."""
    paths = WarehousePaths(tmp_path / "wh")
    if request.param == "reopened":
        with EventStore.open_writer(paths) as first, first.transaction():
            first.append([receipt("seed")])
    with EventStore.open_writer(paths) as opened:
        yield opened


def test_positions_increase_and_stream_versions_count_per_stream(store: EventStore) -> None:
    start, _ = store.head()
    with store.transaction():
        positions = store.append([protocol_event("P1"), protocol_event("P2"), protocol_event("P1", 120, 2)])
    assert positions == [start + 1, start + 2, start + 3]
    events = store.events(after=start)
    assert [(e.stream_id, e.stream_version) for e in events] == [
        ("precinct:e/P1", 1),
        ("precinct:e/P2", 1),
        ("precinct:e/P1", 2),
    ]
    assert all(isinstance(e, StoredEvent) and e.occurred_at == AT for e in events)


def test_expected_version_mismatch_is_refused_and_appends_nothing(store: EventStore) -> None:
    with store.transaction():
        store.append([protocol_event("P1")])
    before = store.head()
    with pytest.raises(ConcurrencyConflict), store.transaction():
        store.append([protocol_event("P1", 130, 2)], expected_versions={"precinct:e/P1": 0})
    assert store.head() == before


def test_unique_stream_version_is_enforced_by_the_database(store: EventStore) -> None:
    with store.transaction():
        store.append([protocol_event("P1")])
    with pytest.raises(duckdb.ConstraintException):
        store.conn.execute(
            "INSERT INTO events SELECT position + 100, stream_id, stream_version, event_type, election_id, "
            "occurred_at, recorded_at, batch_id, payload, prev_hash, event_hash FROM events "
            "WHERE stream_id = 'precinct:e/P1'"
        )


def test_a_failed_transaction_leaves_no_event_and_no_figures(store: EventStore) -> None:
    before = store.head()
    counts = store.conn.execute(
        "SELECT (SELECT count(*) FROM protocol_facts), (SELECT count(*) FROM protocol_votes)"
    )
    before_counts = counts.fetchall()
    with pytest.raises(RuntimeError), store.transaction():
        store.append([protocol_event("P7")])
        raise RuntimeError("writer dies mid-file")
    assert store.head() == before
    after = store.conn.execute(
        "SELECT (SELECT count(*) FROM protocol_facts), (SELECT count(*) FROM protocol_votes)"
    )
    assert after.fetchall() == before_counts


def test_hash_chain_links_every_event_to_the_one_before(store: EventStore) -> None:
    with store.transaction():
        store.append([protocol_event("P1"), protocol_event("P2")])
    events = store.events()
    for earlier, later in itertools.pairwise(events):
        assert later.prev_hash == earlier.event_hash
    assert store.verify().intact


@pytest.mark.parametrize(
    "tamper",
    [
        f"UPDATE protocol_votes SET votes = votes + 1 WHERE position = {LAST}",
        f"UPDATE protocol_facts SET invalid_ballots = 0 WHERE position = {FIRST}",
        f"UPDATE events SET payload = '{{\"row\":3}}' WHERE position = {FIRST}",
        f"DELETE FROM events WHERE position = {FIRST}",
        f"DELETE FROM protocol_votes WHERE position = {FIRST} AND list_id = 'b'",
    ],
    ids=["vote", "figure", "payload", "deleted-event", "deleted-vote"],
)
def test_any_alteration_is_detected_and_named(store: EventStore, tamper: str) -> None:
    with store.transaction():
        store.append([protocol_event("P1"), protocol_event("P2"), protocol_event("P3")])
    first_protocol = store.conn.execute("SELECT min(position) FROM protocol_facts").fetchall()[0][0]
    store.conn.execute(tamper)
    report = verify_connection(store.conn)
    assert not report.intact
    assert report.first_bad_position is not None and report.first_bad_position >= first_protocol


@pytest.mark.parametrize(
    "irregular",
    [
        "SELECT 1",
        "INSERT INTO protocol_votes SELECT position, list_id, votes + 1 FROM protocol_votes "
        f"WHERE position = {FIRST}",
        f"DELETE FROM protocol_votes WHERE position = {LAST} AND list_id = 'position'",
        "ALTER TABLE protocol_votes ALTER votes DROP NOT NULL; "
        f"UPDATE protocol_votes SET votes = NULL WHERE position = {LAST} AND list_id = 'a'",
        "ALTER TABLE protocol_votes ALTER list_id DROP NOT NULL; "
        f"UPDATE protocol_votes SET list_id = NULL WHERE position = {FIRST} AND list_id = 'b'",
    ],
    ids=["as-written", "list-twice", "list-missing", "null-votes", "null-list"],
)
def test_verification_spells_pivoted_votes_as_the_ordered_aggregation_does(
    store: EventStore, irregular: str
) -> None:
    """`votes_from_log` (one column per list id) gives every event the content the ordered spelling
    gives, also for protocols no writer stores: a list id twice or missing, a NULL."""
    odd_lists = (("position", 20), ("o'x", 30), ("é", 10), ("a", 0))
    odd = ProtocolFacts("P3", "north", 1, 1000, 60, 60, 0, 0, odd_lists)
    with store.transaction():
        store.append(
            [
                protocol_event("P1"),
                protocol_event("P2", 70),
                ProtocolReported(
                    election_id="e",
                    occurred_at=AT,
                    batch_id="batch1",
                    precinct_id="P3",
                    file_name="f.csv",
                    row=4,
                    protocol=odd,
                ),
            ]
        )
    store.conn.execute(irregular)
    store.conn.execute(HASH_TEXT_MACRO)
    ordered = store.conn.execute(content_sql("events", stored_hashes=True, hashed=False), {"since": -1})
    expected = ordered.fetchall()
    assert "FILTER" in votes_from_log(store.conn)  # the pivot is in use
    pivoted = content_sql("events", stored_hashes=True, hashed=False, votes=votes_from_log(store.conn))
    assert store.conn.execute(pivoted, {"since": -1}).fetchall() == expected


def test_swapping_two_events_is_detected(store: EventStore) -> None:
    with store.transaction():
        a, b = store.append([protocol_event("P1"), protocol_event("P2")])
    store.conn.execute("UPDATE events SET position = -1 WHERE position = ?", [a])
    store.conn.execute("UPDATE events SET position = ? WHERE position = ?", [a, b])
    store.conn.execute("UPDATE events SET position = ? WHERE position = -1", [b])
    report = verify_connection(store.conn)
    assert not report.intact and report.first_bad_position == a


def test_second_writer_waits_then_fails_clearly(tmp_path: Path) -> None:
    paths = WarehousePaths(tmp_path / "wh")
    with (
        writer_lock(paths, wait_seconds=1),
        pytest.raises(WriterBusy, match="being written by pid"),
        EventStore.open_writer(paths, wait_seconds=0.3),
    ):
        pass


def test_a_writer_that_has_not_yet_written_its_pid_is_still_named(tmp_path: Path) -> None:
    """The holder takes the lock, then writes its pid: a waiter giving up in between names it anyway."""
    paths = WarehousePaths(tmp_path / "wh")
    paths.ensure()
    handle = paths.writer_lock.open("a+")
    fcntl.flock(handle, fcntl.LOCK_EX)

    def write_pid() -> None:
        handle.write("pid 4242")
        handle.flush()

    late = threading.Timer(0.3, write_pid)
    late.start()
    try:
        with (
            pytest.raises(WriterBusy, match="being written by pid 4242"),
            writer_lock(paths, wait_seconds=0.0),
        ):
            pass
    finally:
        late.join()
        handle.close()


def test_the_next_writer_removes_what_a_killed_writer_left_half_written(tmp_path: Path) -> None:
    paths = WarehousePaths(tmp_path / "wh")
    paths.ensure()
    (paths.archive / "ab").mkdir()
    half_written = [paths.archive / "ab" / ".incoming-x1", paths.snapshot.parent / ".snapshot-y2"]
    for leftover in half_written:
        leftover.write_bytes(b"partial")
    staging = paths.publications / ".e--provisional--000000001.abc"
    staging.mkdir()
    kept = paths.archive / "ab" / ("ab" + "0" * 62)
    kept.write_bytes(b"a received file")
    with EventStore.open_writer(paths):
        pass
    assert not any(p.exists() for p in [*half_written, staging])
    assert kept.read_bytes() == b"a received file"
