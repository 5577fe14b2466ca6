"""The append-only, hash-chained event log in DuckDB, with one writer at a time.

Appending assigns global positions and per-stream versions, stores bulky figures in typed fact
tables, and chains each event's hash to the previous one. The content an event's hash covers is
spelled by one SQL query (`_CONTENT_SQL`) both when appending and when verifying, so the two
can never drift apart; only the text of a protocol's votes may come from the wide table being
appended (`wide_votes_text`) or, in verification, from a pivot of the stored rows (`votes_from_log`),
each spelled exactly as the ordered aggregation of the stored rows spells it.

Nothing stored in the warehouse takes part in spelling or hashing that content: the length-prefix
macro `lp` is defined by this module as a TEMP macro on every connection that hashes (a temporary
definition is found before one stored in the database), a writer refuses a warehouse that stores a
macro under the name of a DuckDB built-in, and verification hashes the text with hashlib.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import IO, Any

import duckdb
import pandas as pd
import pyarrow as pa

from pipelines.core.errors import PipelineError
from pipelines.core.paths import WarehousePaths
from pipelines.core.timestamps import utc_now
from pipelines.domain.election import PrecinctTable
from pipelines.domain.event_types import DomainEvent
from pipelines.domain.events import PRECINCT_STREAM_PREFIX, NewEvent, StoredEvent, canonical_json
from pipelines.store import snapshot
from pipelines.store.event_codec import deserialize, serialize
from pipelines.store.log_anchors import append_anchor, read_anchors, reanchor
from pipelines.store.migrations import apply_migrations, apply_views, first_row
from pipelines.store.queries import query, sql_name, statement

GENESIS_HASH = "0" * 64

# The length prefix of every hashed text, so that no choice of names makes two contents collide.
# Migration 001 stored the same definition in the warehouse; that stored copy is never used.
HASH_TEXT_MACRO = statement("define_lp_macro")

_TS = "'%Y-%m-%dT%H:%M:%S.%f'"
# {events} is the events table (or the staging table of an append); {since} bounds the positions.
# Every part is an lp() text, never NULL, so concat() spells exactly what a chain of || would; it
# builds each text in one allocation where || copies it once per part (a third of the append time).
_CONTENT_SQL = f"""
WITH votes AS (
    {{votes}}
), protocol AS (
    SELECT f.position,
           concat(lp(f.election_id), lp(f.precinct_id), lp(f.region_id), lp(f.protocol_version),
                  lp(f.registered_voters), lp(f.ballots_issued), lp(f.ballots_cast),
                  lp(f.invalid_ballots), lp(f.against_all), lp(v.votes_text)) AS facts
    FROM protocol_facts f LEFT JOIN votes v USING (position) WHERE f.position > $since
), precincts AS (
    SELECT position,
           string_agg(concat(lp(election_id), lp(precinct_id), lp(region_id), lp(registered_voters)), ''
                      ORDER BY precinct_id) AS facts
    FROM declared_precincts WHERE position > $since GROUP BY position
), oe_rows AS (
    SELECT position,
           string_agg(concat(lp(line), lp(election_id), lp(county), lp(precinct), lp(office), lp(district),
                             lp(party), lp(candidate), lp(votes), lp(early_voting), lp(election_day),
                             lp(absentee), lp(provisional), lp(other_modes)), '' ORDER BY line) AS facts
    FROM oe_results WHERE position > $since GROUP BY position
), oe_pseudo AS (
    SELECT position,
           string_agg(concat(lp(line), lp(election_id), lp(kind), lp(county), lp(precinct), lp(office),
                             lp(district), lp(label), lp(votes)), '' ORDER BY line) AS facts
    FROM oe_pseudo_rows WHERE position > $since GROUP BY position
)
SELECT e.position, e.prev_hash_stored, e.event_hash_stored,
       {{digest_open}}concat(lp(e.position), lp(e.stream_id), lp(e.stream_version), lp(e.event_type),
                     lp(e.election_id), lp(strftime(e.occurred_at, {_TS})),
                     lp(strftime(e.recorded_at, {_TS})),
                     lp(e.batch_id), lp(e.payload), lp(p.facts), lp(d.facts),
                     -- tagged and only when present, so that events without them keep their digests
                     CASE WHEN o.facts IS NULL THEN '' ELSE 'R' || lp(o.facts) END,
                     CASE WHEN q.facts IS NULL THEN '' ELSE 'P' || lp(q.facts) END){{digest_close}} AS digest
FROM (SELECT *, {{prev}} AS prev_hash_stored, {{hash}} AS event_hash_stored
      FROM {{events}} WHERE position > $since) e
LEFT JOIN protocol p USING (position)
LEFT JOIN precincts d USING (position)
LEFT JOIN oe_rows o USING (position)
LEFT JOIN oe_pseudo q USING (position)
ORDER BY e.position
"""

# The text of a protocol's votes: (list id, votes) in list id order, from the stored figures.
_VOTES_FROM_LOG = """
    SELECT position, string_agg(concat(lp(list_id), lp(votes)), '' ORDER BY list_id) AS votes_text
    FROM protocol_votes WHERE position > $since GROUP BY position"""


def content_sql(
    events: str, *, stored_hashes: bool, votes: str = _VOTES_FROM_LOG, hashed: bool = True
) -> str:
    """The digest of each event after `$since` in `events`; `votes` may give the votes' text from a
    wide table of the same figures (one column per list), which spells it without sorting.
    `hashed=False` gives the content text itself instead, for the caller to hash (verification).
    The connection must have run `HASH_TEXT_MACRO`."""
    prev, hash_ = ("prev_hash", "event_hash") if stored_hashes else ("NULL", "NULL")
    opening, closing = ("sha256(", ")") if hashed else ("", "")
    return _CONTENT_SQL.format(
        events=events, prev=prev, hash=hash_, votes=votes, digest_open=opening, digest_close=closing
    )


def content_digest(content: str) -> str:
    """What SQL's sha256() of the content text gives, computed here."""
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def wide_votes_text(table: str, list_ids: Sequence[str]) -> str:
    """`_VOTES_FROM_LOG` for a table with one column per list id: the same text, list ids in order.
    An ASCII list id's own length-prefixed text is spelled here, once, instead of on every row."""
    parts = [f"{_prefixed_text(i)}, lp({sql_name(i)})" for i in sorted(list_ids)]
    return f"SELECT position, concat({', '.join(parts)}) AS votes_text FROM {table}"


# Above this many distinct list ids in the log, verification spells votes by ordering alone (the
# pivot would be a query with a column per list id).
_PIVOT_LIST_LIMIT = 256

# `_VOTES_FROM_LOG` through a pivot of the stored rows: one column per list id, filled by a plain
# aggregation, then spelled in list id order without sorting each protocol's rows (at 1M protocols
# ~6 s of CPU against ~14 s). Only for a protocol whose rows are one per list id with its votes
# (row_count = the columns it fills); any other (a list id twice, a NULL) is spelled by the ordered
# aggregation itself, so the text is `_VOTES_FROM_LOG`'s for every protocol.
_VOTES_PIVOTED = """
    WITH wide AS (
        SELECT position, count(*) AS row_count, {columns}
        FROM protocol_votes WHERE position > $since GROUP BY position
    )
    SELECT position, concat({texts}) AS votes_text FROM wide WHERE row_count = {filled}
    UNION ALL
    SELECT position, string_agg(concat(lp(list_id), lp(votes)), '' ORDER BY list_id) AS votes_text
    FROM protocol_votes
    WHERE position > $since AND position IN (SELECT position FROM wide WHERE row_count <> {filled})
    GROUP BY position"""


def votes_from_log(conn: duckdb.DuckDBPyConnection) -> str:
    """The votes' text of every stored protocol for `content_sql`: `_VOTES_FROM_LOG`, spelled through
    `_VOTES_PIVOTED` when the log holds at most `_PIVOT_LIST_LIMIT` list ids."""
    list_ids = [str(r[0]) for r in conn.execute(query("log_list_ids")).fetchall()]
    if not list_ids or len(list_ids) > _PIVOT_LIST_LIMIT:
        return _VOTES_FROM_LOG
    # Columns are named c0, c1, ... in list id order: a list id may be any text, "position" included.
    columns = [f"first(votes) FILTER (WHERE list_id = {sql_text(i)}) AS c{n}" for n, i in enumerate(list_ids)]
    texts = [
        f"CASE WHEN c{n} IS NULL THEN '' ELSE concat(lp({sql_text(i)}), lp(c{n})) END"
        for n, i in enumerate(list_ids)
    ]
    filled = " + ".join(f"CAST(c{n} IS NOT NULL AS BIGINT)" for n in range(len(list_ids)))
    return _VOTES_PIVOTED.format(columns=", ".join(columns), texts=", ".join(texts), filled=f"({filled})")


def _prefixed_text(text: str) -> str:
    """What `lp` gives for a constant text, as SQL: a literal where length() and len() agree (ASCII)."""
    return sql_text(f"{len(text)}:{text}") if text.isascii() else f"lp({sql_text(text)})"


def sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def chain_hash(prev_hash: str, digest: str) -> str:
    return hashlib.sha256((prev_hash + digest).encode("ascii")).hexdigest()


def stored_builtin_shadows(conn: duckdb.DuckDBPyConnection, database: str | None = None) -> list[str]:
    """Macros stored in the database under the name of a DuckDB built-in: on a connection to that
    database they would be called instead of the built-in."""
    rows = conn.execute(query("builtin_shadowing_macros"), [database]).fetchall()
    return [str(r[0]) for r in rows]


class WarehouseTampered(PipelineError):
    """The warehouse holds something no writer of this system puts there; run `elections verify`."""


def refuse_shadowed_builtins(conn: duckdb.DuckDBPyConnection) -> None:
    shadows = stored_builtin_shadows(conn)
    if shadows:
        raise WarehouseTampered(
            f"the warehouse stores macro(s) named like DuckDB built-ins ({', '.join(shadows)}), which would "
            "change what this writer computes; refusing to write - run `elections verify`"
        )


class WriterBusy(PipelineError):
    """Another process holds the warehouse's single writer lock."""


class ConcurrencyConflict(PipelineError):
    """A stream moved on since the caller read it (optimistic concurrency)."""


class BeyondRecordedHead(Exception):
    """A replay's commit would take the log past where the original writer stopped (rolled back)."""


@dataclass(frozen=True)
class VerifyReport:
    events: int
    first_bad_position: int | None
    problem: str | None
    # What failed: schema, chain, anchors, unanchored (a head not yet recorded), archive, receipts.
    kind: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


@contextmanager
def writer_lock(paths: WarehousePaths, *, wait_seconds: float) -> Iterator[bool]:
    """Hold the warehouse's writer lock, waiting up to `wait_seconds` for another writer to finish.

    Yields whether the holder before did not finish: the lock file names a holder from taking the
    lock until a clean release empties it, so a name found there is one of a writer killed or
    failed while it held the lock."""
    paths.ensure()
    handle = paths.writer_lock.open("a+")
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _lock_holder(handle) or "another process"
                    raise WriterBusy(
                        f"the warehouse {paths.root} is being written by {holder}; "
                        f"gave up after waiting {wait_seconds:g}s - run the command again when it finishes"
                    ) from None
                time.sleep(0.1)
        handle.seek(0)
        unfinished = bool(handle.read().strip())
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield unfinished
        handle.seek(0)
        handle.truncate()
        handle.flush()
    finally:
        handle.close()  # closing releases the flock


def _lock_holder(handle: IO[str]) -> str:
    """Who holds the lock, as it wrote itself in; a holder that has just taken the lock may not have
    written its pid yet, so look again for a moment before giving up on naming it."""
    for _ in range(20):
        handle.seek(0)
        holder = handle.read().strip()
        if holder:
            return holder
        time.sleep(0.05)
    return ""


def remove_leftovers(paths: WarehousePaths) -> list[Path]:
    """Delete the hidden temporaries a killed writer left (half-written archive files, snapshot
    copies and links, publication staging folders) and snapshot generations no reader will open
    again. Only the lock holder may call this: no one else writes."""
    found = [
        *paths.archive.glob("*/.incoming-*"),
        *paths.snapshot.parent.glob(f"{snapshot.TEMPORARY_PREFIX}*"),
        *snapshot.stale_generations(paths),
        *(p for p in paths.publications.glob(".*") if p.is_dir()),
    ]
    for leftover in found:
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
    return found


# DuckDB takes up to 80 % of the machine's memory for its buffers by default; the writer shares its
# machine with Airflow and readers, so it is held to this and spills to disk beyond it.
WRITER_MEMORY_ENV = "ELECTIONS_WRITER_MEMORY"
DEFAULT_WRITER_MEMORY = "1GB"


def writer_config() -> dict[str, str | bool | int | float | list[str]]:
    return {"memory_limit": os.environ.get(WRITER_MEMORY_ENV, DEFAULT_WRITER_MEMORY)}


@dataclass(frozen=True)
class FileAppend:
    """One received file's share of `EventStore.append_files`: the events it appends before its
    protocols (receipt, refused rows), and what its protocol events carry."""

    events: Sequence[DomainEvent]
    occurred_at: datetime
    recorded_at: datetime
    batch_id: str


_EVENT_COLUMNS = (
    "position",
    "stream_id",
    "stream_version",
    "event_type",
    "election_id",
    "occurred_at",
    "recorded_at",
    "batch_id",
    "payload",
)
_FACT_COLUMNS = (
    "position",
    "election_id",
    "precinct_id",
    "region_id",
    "protocol_version",
    "registered_voters",
    "ballots_issued",
    "ballots_cast",
    "invalid_ballots",
    "against_all",
)


def _empty_event_rows() -> pd.DataFrame:
    """Event rows of no event, typed as the staged protocol events are."""
    return pd.DataFrame(
        {
            "position": pd.Series([], dtype="int64"),
            "stream_id": pd.Series([], dtype="str"),
            "stream_version": pd.Series([], dtype="int64"),
            "event_type": pd.Series([], dtype="str"),
            "election_id": pd.Series([], dtype="str"),
            "occurred_at": pd.Series([], dtype="datetime64[us]"),
            "recorded_at": pd.Series([], dtype="datetime64[us]"),
            "batch_id": pd.Series([], dtype="str"),
            "payload": pd.Series([], dtype="str"),
        }
    )


class EventStore:
    """The event log of one warehouse, opened by its single writer."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, heads_log: Path | None = None) -> None:
        self.conn = conn
        self.heads_log = heads_log
        self.changed = False  # something was committed (or the schema migrated) since opening
        self._recorded_at: datetime | None = None
        self._commit_limit: int | None = None
        conn.execute(HASH_TEXT_MACRO)

    @classmethod
    @contextmanager
    def open_writer(cls, paths: WarehousePaths, *, wait_seconds: float = 300.0) -> Iterator[EventStore]:
        """The single writer. When it has changed the database (or readers have no snapshot yet), the
        readers' snapshot is refreshed after the connection is closed and before the lock is released:
        the next writer cannot touch the file meanwhile, and finds the snapshot current.

        A session that appended events is followed by delta (the previous generation takes the new log
        rows and replays its projections); one that changed the database without appending (a rebuild,
        a migration) may have rewritten derived tables, which only a whole copy carries over."""
        with writer_lock(paths, wait_seconds=wait_seconds) as unfinished:
            remove_leftovers(paths)
            conn = duckdb.connect(str(paths.database), config=writer_config())
            try:
                refuse_shadowed_builtins(conn)
                migrated = bool(apply_migrations(conn))
                apply_views(conn, force=migrated)
                store = cls(conn, paths.log_heads)
                store.changed = migrated
                if unfinished:  # tell a replay how far the unfinished writer's last input got
                    from pipelines.store.raw_archive import RawArchive

                    RawArchive(paths.archive).mark_interrupted(utc_now(), store.head()[0])
                opened_at = store.head()
                reanchor(paths.log_heads, opened_at)
                yield store
                appended = store.head()[0] > opened_at[0] and not migrated
            finally:
                conn.close()
            if store.changed or not paths.snapshot.exists():
                snapshot.refresh_snapshot(
                    paths, log_tables=LOG_TABLES if appended else (), config=writer_config()
                )

    # -- reading -------------------------------------------------------------------------------

    def head(self) -> tuple[int, str]:
        row = first_row(
            self.conn.execute("SELECT position, event_hash FROM events ORDER BY position DESC LIMIT 1")
        )
        return (0, GENESIS_HASH) if row is None else (int(row[0]), str(row[1]))

    def stream_versions(self, streams: Iterable[str]) -> dict[str, int]:
        wanted = pd.DataFrame({"stream_id": sorted(set(streams))}, dtype="string")
        if wanted.empty:
            return {}
        self.conn.register("wanted_streams", wanted)
        try:
            rows = self.conn.execute(query("stream_versions")).fetchall()
        finally:
            self.conn.unregister("wanted_streams")
        return {str(s): int(v) for s, v in rows}

    def events(
        self, *, after: int = 0, types: Sequence[str] | None = None, election_id: str | None = None
    ) -> list[StoredEvent]:
        rows = self.conn.execute(
            query("log_events"),
            {"after": after, "types": list(types) if types else None, "election": election_id},
        ).fetchall()

        return [
            StoredEvent(
                position=int(r[0]),
                stream_id=r[1],
                stream_version=int(r[2]),
                event_type=r[3],
                election_id=r[4],
                occurred_at=r[5],
                recorded_at=r[6],
                batch_id=r[7],
                payload=json.loads(r[8]),
                prev_hash=r[9],
                event_hash=r[10],
            )
            for r in rows
        ]

    def typed_events(
        self, *, after: int = 0, types: Sequence[str] | None = None, election_id: str | None = None
    ) -> list[DomainEvent]:
        """`events`, each as its typed event in the current version (through the event codec)."""
        return [deserialize(e) for e in self.events(after=after, types=types, election_id=election_id)]

    # -- writing -------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: a writer killed inside leaves the log exactly as before."""
        self.conn.execute("BEGIN TRANSACTION")
        try:
            yield
            if self._commit_limit is not None and self.head()[0] > self._commit_limit:
                raise BeyondRecordedHead(f"the original log stopped at position {self._commit_limit}")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
        self.changed = True
        if self.heads_log is not None:
            position, event_hash = self.head()
            if position > 0:
                append_anchor(self.heads_log, position, event_hash)

    @contextmanager
    def committing_up_to(self, position: int | None) -> Iterator[None]:
        """Inside, a transaction that would take the log past `position` is rolled back and raises
        BeyondRecordedHead: a replay applies an input its writer stopped in only as far as it got."""
        before = self._commit_limit
        self._commit_limit = position
        try:
            yield
        finally:
            self._commit_limit = before

    @contextmanager
    def recording_at(self, moment: datetime | None) -> Iterator[None]:
        """Events appended inside get `moment` as their `recorded_at` (None: the clock at each append).

        The writer fixes the moment when it takes a file or an operator action and writes it in the
        input journal (`receipts.jsonl`) first; a replay passes it back, so its hashes equal the
        original's."""
        before = self._recorded_at
        self._recorded_at = moment
        try:
            yield
        finally:
            self._recorded_at = before

    def recording_time(self) -> datetime:
        return self._recorded_at or utc_now()

    def append(
        self, events: Sequence[DomainEvent], *, expected_versions: Mapping[str, int] | None = None
    ) -> list[int]:
        """Append typed events in order and return their positions. Call inside `transaction()`.

        Every path that appends goes through here (or `append_files`, its set-based twin for the
        files of protocols of a run): the event codec spells each payload, and `expected_versions`
        (stream -> the version the caller read) refuses the append when a stream moved on."""
        return self.append_serialized([serialize(e) for e in events], expected_versions=expected_versions)

    def append_serialized(
        self, events: Sequence[NewEvent], *, expected_versions: Mapping[str, int] | None = None
    ) -> list[int]:
        """`append` for events already serialized (tests write payloads no class would)."""
        if not events:
            return []
        last_position, last_hash = self.head()
        versions = self.stream_versions(e.stream_id for e in events)
        for stream, expected in (expected_versions or {}).items():
            if versions.get(stream, 0) != expected:
                raise ConcurrencyConflict(
                    f"stream {stream} is at version {versions.get(stream, 0)}, expected {expected}"
                )
        positions = list(range(last_position + 1, last_position + 1 + len(events)))
        recorded_at = self.recording_time()
        staged = self._stage_serialized(events, positions, [recorded_at] * len(events), versions)
        digests = self._serialized_digests(staged, since=last_position)
        self._insert_chained(staged, None, digests, last_hash)
        return positions

    def append_files(
        self,
        parts: Sequence[FileAppend],
        rows: str | None = None,
        *,
        list_ids: Sequence[str] = (),
        election_id: str = "",
    ) -> int:
        """Append the events of several received files in one go, in the order one file at a time
        would append them: for each part its `events`, then its protocols (the rows of the table
        `rows` with its `file_no`, in `seq` order). Return how many protocols were appended.

        The set-based path for files of protocols: `rows` holds file_no, seq (one row per stream),
        event_type, payload, precinct_id, region_id, protocol_version, the five figures and one column
        per list id. Positions, versions, facts and hashes come out exactly as appending each file's
        events with `append` would give them, so a log does not tell how its files were grouped into
        commits. A part's events must not write a precinct's stream (its protocols do). Call inside
        `transaction()`.
        """
        last_position, last_hash = self.head()
        conn = self.conn
        counts: dict[int, int] = {}
        if rows is not None:
            found = conn.execute(f"SELECT file_no, count(*) FROM {rows} GROUP BY file_no").fetchall()
            counts = {int(f): int(c) for f, c in found}
        events: list[NewEvent] = []
        positions: list[int] = []
        recorded: list[datetime] = []
        layout: dict[str, list[Any]] = {
            k: [] for k in ("file_no", "protocol_base", "occurred_at", "recorded_at", "batch_id")
        }
        cursor = last_position
        for file_no, part in enumerate(parts):
            serialized = [serialize(e) for e in part.events]
            if any(e.stream_id.startswith(PRECINCT_STREAM_PREFIX) for e in serialized):
                raise ValueError("a file's events may not write a precinct's stream beside its protocols")
            events.extend(serialized)
            positions.extend(range(cursor + 1, cursor + 1 + len(serialized)))
            recorded.extend([part.recorded_at] * len(serialized))
            cursor += len(serialized)
            for key, value in (
                ("file_no", file_no),
                ("protocol_base", cursor),
                ("occurred_at", part.occurred_at),
                ("recorded_at", part.recorded_at),
                ("batch_id", part.batch_id),
            ):
                layout[key].append(value)
            cursor += counts.get(file_no, 0)
        staged = self._stage_serialized(
            events, positions, recorded, self.stream_versions(e.stream_id for e in events)
        )
        digests = self._serialized_digests(staged, since=last_position)
        appended = sum(counts.values())
        if rows is None or appended == 0:
            self._insert_chained(staged, None, digests, last_hash)
            return 0
        conn.register("_file_layout_frame", pd.DataFrame(layout))
        try:
            conn.execute("CREATE OR REPLACE TEMP TABLE _file_layout AS SELECT * FROM _file_layout_frame")
        finally:
            conn.unregister("_file_layout_frame")
        conn.execute(statement("stage_protocols", rows=[rows]))
        conn.execute(statement("append_staged_protocol_facts"), {"election": election_id})
        conn.execute(statement("append_staged_protocol_votes", lists=list_ids))
        conn.execute(statement("stage_protocol_events"), {"election": election_id})
        protocol_digests = conn.execute(
            "SELECT position, digest FROM ("
            + content_sql(
                "_staged_events",
                stored_hashes=False,
                votes=wide_votes_text("_staged_protocols", list_ids),
            )
            + ") ORDER BY position",
            {"since": last_position},
        ).fetchall()
        merged = sorted([*digests, *((int(p), str(d)) for p, d in protocol_digests)])
        self._insert_chained(staged, "_staged_events", merged, last_hash)
        conn.execute("DROP TABLE _staged_events; DROP TABLE _staged_protocols; DROP TABLE _file_layout")
        return appended

    def _stage_serialized(
        self,
        events: Sequence[NewEvent],
        positions: Sequence[int],
        recorded: Sequence[datetime],
        versions: dict[str, int],
    ) -> pd.DataFrame:
        """Store the side tables (facts, votes, declared precincts, OpenElections rows) of `events` at
        `positions` and return their event rows, without hashes. `versions` (stream -> version now)
        counts on."""
        rows: dict[str, list[Any]] = {k: [] for k in _EVENT_COLUMNS}
        facts: dict[str, list[Any]] = {k: [] for k in _FACT_COLUMNS}
        votes: dict[str, list[Any]] = {"position": [], "list_id": [], "votes": []}
        precincts: list[tuple[int, str, PrecinctTable]] = []
        contest_rows: dict[str, list[pd.DataFrame]] = {"oe_results": [], "oe_pseudo_rows": []}
        for event, position, recorded_at in zip(events, positions, recorded, strict=True):
            versions[event.stream_id] = versions.get(event.stream_id, 0) + 1
            for key, value in (
                ("position", position),
                ("stream_id", event.stream_id),
                ("stream_version", versions[event.stream_id]),
                ("event_type", event.event_type),
                ("election_id", event.election_id),
                ("occurred_at", event.occurred_at),
                ("recorded_at", recorded_at),
                ("batch_id", event.batch_id),
                ("payload", canonical_json(event.payload)),
            ):
                rows[key].append(value)
            facts_row = event.protocol
            if facts_row is not None:
                for key, value in (
                    ("position", position),
                    ("election_id", event.election_id),
                    ("precinct_id", facts_row.precinct_id),
                    ("region_id", facts_row.region_id),
                    ("protocol_version", facts_row.protocol_version),
                    ("registered_voters", facts_row.registered_voters),
                    ("ballots_issued", facts_row.ballots_issued),
                    ("ballots_cast", facts_row.ballots_cast),
                    ("invalid_ballots", facts_row.invalid_ballots),
                    ("against_all", facts_row.against_all),
                ):
                    facts[key].append(value)
                for list_id, count in facts_row.votes:
                    votes["position"].append(position)
                    votes["list_id"].append(list_id)
                    votes["votes"].append(count)
            if event.precincts is not None:
                precincts.append((position, event.election_id, event.precincts))
            for table, frame in (("oe_results", event.oe_results), ("oe_pseudo_rows", event.oe_pseudo_rows)):
                if frame is not None and len(frame):
                    contest_rows[table].append(frame.assign(position=position))
        self._insert("protocol_facts", facts)
        self._insert("protocol_votes", votes)
        for position, election_id, declared in precincts:
            self._insert_declared(position, election_id, declared)
        for table, frames in contest_rows.items():
            for frame in frames:
                self._insert_frame(table, frame)
        return pd.DataFrame(rows)

    def _serialized_digests(self, staged: pd.DataFrame, *, since: int) -> list[tuple[int, str]]:
        """(position, digest) of each staged event row, in position order.

        The content is spelled by the same SQL and hashed here, as verification hashes it: these rows
        are few, but a declaration's content holds every precinct (~50 MB at a million), and hashlib
        (with the CPU's SHA instructions) hashes it at ~1.4 GB/s where DuckDB's sha256 ran at ~0.2."""
        if staged.empty:
            return []
        self.conn.register("staged_events", staged)
        try:
            found = self.conn.execute(
                content_sql("staged_events", stored_hashes=False, hashed=False), {"since": since}
            ).fetchall()
        finally:
            self.conn.unregister("staged_events")
        return [(int(position), content_digest(str(content))) for position, _prev, _hash, content in found]

    def _insert_chained(
        self,
        staged: pd.DataFrame,
        staged_table: str | None,
        digests: Sequence[tuple[int, str]],
        last_hash: str,
    ) -> None:
        """Chain `digests` (every new position, in order) from `last_hash` and insert the event rows
        of `staged` and, when named, of the staged table of protocol events, in position order."""
        prev_hashes, hashes = [], []
        prev = last_hash
        for _position, digest in digests:
            prev_hashes.append(prev)
            prev = chain_hash(prev, digest)
            hashes.append(prev)
        if staged_table is None:
            if not staged.empty:
                self._insert_frame("events", staged.assign(prev_hash=prev_hashes, event_hash=hashes))
            return
        chained = pd.DataFrame(
            {"position": [p for p, _ in digests], "prev_hash": prev_hashes, "event_hash": hashes}
        )
        conn = self.conn
        conn.register("_chained", chained)
        conn.register("_staged_serialized", staged if not staged.empty else _empty_event_rows())
        try:
            conn.execute(statement("append_chained_events"))
        finally:
            conn.unregister("_chained")
            conn.unregister("_staged_serialized")

    def _insert_declared(self, position: int, election_id: str, precincts: PrecinctTable) -> None:
        """The declared precincts of the event at `position`, in declaration order, read from the
        table's own Arrow columns: through a pandas frame, a million of them took twice as long."""
        rows = pa.table(
            {
                "precinct_id": precincts.precinct_ids,
                "region_id": precincts.region_ids,
                "registered_voters": precincts.registered_voters,
            }
        )
        self.conn.register("_declared_rows", rows)
        try:
            self.conn.execute(
                statement("insert_declared_precincts"), {"position": position, "election": election_id}
            )
        finally:
            self.conn.unregister("_declared_rows")

    def _insert(self, table: str, columns: dict[str, list[Any]]) -> None:
        if columns["position"]:
            self._insert_frame(table, pd.DataFrame(columns))

    def _insert_frame(self, table: str, frame: pd.DataFrame) -> None:
        columns = list(frame.columns)
        view = f"staged_{table}"
        self.conn.register(view, frame)
        try:
            names = ", ".join(columns)
            self.conn.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {view}")
        finally:
            self.conn.unregister(view)

    # -- verifying -----------------------------------------------------------------------------

    def verify(self, paths: WarehousePaths | None = None) -> VerifyReport:
        """Recompute the hash chain from the stored content; name the first position that breaks it."""
        return verify_connection(self.conn, paths)


# The tables whose rows an event's hash covers.
LOG_TABLES = (
    "events",
    "protocol_facts",
    "protocol_votes",
    "declared_precincts",
    "oe_results",
    "oe_pseudo_rows",
)
# Added by migration 003: a warehouse last written before it has no OpenElections figures.
_LATER_LOG_TABLES = ("oe_results", "oe_pseudo_rows")


@cache
def expected_columns() -> dict[str, tuple[tuple[str, str], ...]]:
    """Every table of a warehouse as this version's migrations create it: (column, type) in order."""
    with duckdb.connect() as conn:
        apply_migrations(conn)
        rows = conn.execute(query("own_table_columns")).fetchall()
        views = {
            str(r[0])
            for r in conn.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
        }
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        if table not in views:
            columns.setdefault(str(table), []).append((str(column), str(data_type)))
    return {table: tuple(cols) for table, cols in columns.items()}


def log_schema_problem(conn: duckdb.DuckDBPyConnection, database: str) -> str | None:
    """Why the log tables of `database` cannot be read as the log (a view in place of a table,
    other columns or types, a macro shadowing a built-in); None when they can."""
    shadows = stored_builtin_shadows(conn, database)
    if shadows:
        return (
            f"the warehouse stores macro(s) named like DuckDB built-ins ({', '.join(shadows)}): "
            "a connection to it would compute with them instead of the built-ins"
        )
    tables = {
        str(r[0])
        for r in conn.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main'",
            [database],
        ).fetchall()
    }
    views = {
        str(r[0])
        for r in conn.execute(
            "SELECT view_name FROM duckdb_views() WHERE database_name = ? AND schema_name = 'main'",
            [database],
        ).fetchall()
    }
    expected = expected_columns()
    for table in LOG_TABLES:
        if table in views:
            return f"{table} is a view, not the stored table of the log: a view can show anything"
        if table not in tables:
            if table in _LATER_LOG_TABLES:
                continue
            return f"the log table {table} is missing"
        found = tuple(
            (str(c), str(t))
            for c, t in conn.execute(query("table_column_types"), [database, table]).fetchall()
        )
        if found != expected[table]:
            return f"the log table {table} has columns {found}, not {expected[table]}"
    return None


def verify_connection(
    conn: duckdb.DuckDBPyConnection, paths: WarehousePaths | None = None, *, database: str | None = None
) -> VerifyReport:
    """Check the log of `database` (default: the connection's own) through `conn`: its tables are
    the log's tables, every event's hash recomputed with hashlib chains from the one before, every
    figure belongs to an event; with `paths`, the anchors, the archive and the receipts too.

    The log is read through the unqualified names on `conn` (the auditor points them at the tables
    whose schema was checked); no macro, view or function stored in the warehouse takes part."""
    if database is None:
        row = first_row(conn.execute("SELECT current_database()"))
        database = str(row[0]) if row else "memory"
    tables = {
        str(r[0]) for r in conn.execute(query("database_tables_and_views"), [database, database]).fetchall()
    }
    if "events" not in tables:  # a writer stopped before the schema was ever committed: nothing to check
        return VerifyReport(0, None, None)
    problem = log_schema_problem(conn, database)
    if problem is not None:
        return VerifyReport(0, None, problem, "schema")
    conn.execute(HASH_TEXT_MACRO)
    if "oe_results" not in tables:  # last written before migration 003: no OpenElections figures exist
        conn.execute(statement("empty_oe_results_before_003"))
        conn.execute(statement("empty_oe_pseudo_rows_before_003"))
    events, broken, head = recompute_chain(conn)
    if broken is not None:
        return VerifyReport(events, broken[0], broken[1], "chain")
    orphan = orphan_figures(conn)
    if orphan is not None:
        return VerifyReport(
            events, orphan, f"figures stored for position {orphan} belong to no event", "chain"
        )
    if paths is not None:
        from pipelines.store.raw_archive import RawArchive

        cut = check_anchors(conn, paths.log_heads, head)
        if cut is not None:
            return VerifyReport(events, *cut)
        archive = RawArchive(paths.archive)
        for kind, found in (
            ("archive", archive.verify_received(conn)),
            ("receipts", archive.verify_receipts(conn)),
        ):
            if found is not None:
                return VerifyReport(events, found[0], found[1], kind)
    return VerifyReport(events, None, None)


def orphan_figures(conn: duckdb.DuckDBPyConnection) -> int | None:
    """The first position that has figures but no event."""
    row = first_row(conn.execute(query("orphan_figures")))
    return None if row is None or row[0] is None else int(str(row[0]))


def recompute_chain(
    conn: duckdb.DuckDBPyConnection,
) -> tuple[int, tuple[int, str] | None, tuple[int, str]]:
    """Spell every event's content with DuckDB built-ins, hash it here and chain it: the number of
    events, the first break (position, what) if any, and the head (position, hash) the chain reaches."""
    sql = content_sql("events", stored_hashes=True, hashed=False, votes=votes_from_log(conn))
    # In batches: a million events' contents at once would hold gigabytes.
    reader = conn.sql(sql, params={"since": -1}).to_arrow_reader(50_000)
    events, broken, prev, position = 0, None, GENESIS_HASH, 0
    for batch in reader:
        events += batch.num_rows
        if broken is not None:  # once broken, the rest is only drained: DuckDB serves no other query before
            continue
        columns = [batch.column(i).to_pylist() for i in range(4)]
        broken, prev, last = _first_break(zip(*columns, strict=True), prev)
        position = last if last is not None else position
    return events, broken, (position, prev)


def _first_break(
    rows: Iterable[tuple[Any, Any, Any, Any]], prev: str
) -> tuple[tuple[int, str] | None, str, int | None]:
    """The first event of `rows` that does not chain from `prev`, the hash the next batch follows,
    and the last position read."""
    sha256 = hashlib.sha256
    position = None
    for position, stored_prev, stored_hash, content in rows:
        if stored_prev != prev:
            message = (
                f"event {position} does not follow the event before it "
                "(an event was deleted, inserted or reordered)"
            )
            return (int(position), message), prev, position
        digest = sha256(content.encode("utf-8")).hexdigest()
        if stored_hash != sha256((prev + digest).encode("ascii")).hexdigest():
            return (int(position), f"event {position} was altered after it was written"), prev, position
        prev = stored_hash
    return None, prev, position


def check_anchors(
    conn: duckdb.DuckDBPyConnection, heads_log: Path, head: tuple[int, str]
) -> tuple[int | None, str, str] | None:
    """Every recorded head must be an event of the log with the same hash, in order, and the last the
    log's head: (position, what, kind) of the first that is not. Call after the chain verified, so
    that the stored hashes are the recomputed ones."""
    position = head[0]
    found = read_anchors(heads_log)
    name = heads_log.name
    if found.problem is not None:
        return None, found.problem, "anchors"
    if not found.exists or not found.anchors:
        if position == 0:
            return None
        what = "is missing" if not found.exists else "is empty"
        return (
            position,
            f"the log head anchor file {name} {what}, but the log holds {position} events",
            "anchors",
        )
    wanted = sorted({a.position for a in found.anchors})
    stored: dict[int, str] = {0: GENESIS_HASH}  # the file's start line: the head of the empty log
    for start in range(0, len(wanted), 10_000):
        chunk = wanted[start : start + 10_000]
        marks = ", ".join("?" for _ in chunk)
        stored.update(
            (int(p), str(h))
            for p, h in conn.execute(
                f"SELECT position, event_hash FROM events WHERE position IN ({marks})", chunk
            ).fetchall()
        )
    previous = 0
    for anchor in found.anchors:
        where = f"{name} line {anchor.line}"
        if anchor.restarted is not None:
            return (
                anchor.position,
                f"{where}: {anchor.restarted}; the heads before it are not anchored",
                "anchors",
            )
        if anchor.position < previous:
            return (
                anchor.position,
                f"{where}: position {anchor.position} goes back from {previous}",
                "anchors",
            )
        previous = anchor.position
        if anchor.position not in stored:
            return (
                anchor.position,
                (
                    f"event {anchor.position} is missing: {where} records that the log reached position "
                    f"{anchor.position}, so events were deleted"
                ),
                "anchors",
            )
        if stored[anchor.position] != anchor.event_hash:
            return (
                anchor.position,
                (
                    f"event {anchor.position} is not the event recorded at that position ({where}): "
                    "the chain was rewritten from there on, or the anchor edited"
                ),
                "anchors",
            )
    last = found.anchors[-1]
    if last.position < position:
        return (
            position,
            (
                f"the log's head (position {position}) is not anchored: {name} ends at position "
                f"{last.position}. Either a writer was killed between its commit and recording the head "
                "(the next writer to open the warehouse records it), or events were appended outside "
                "the writer"
            ),
            "unanchored",
        )
    return None


def reader_config() -> dict[str, str | bool | int | float | list[str]]:
    """Every read path's connection: the database it opens and nothing else, whatever SQL it is given.

    With external access off no statement reads, writes, lists or attaches a file, installs or loads an
    extension, or stores a secret; the database named to connect() still opens. Locking the configuration
    (applied last) makes SET, RESET and PRAGMA fail, so none of this can be switched back on.
    """
    return {
        "enable_external_access": False,
        "autoload_known_extensions": False,
        "autoinstall_known_extensions": False,
        "allow_community_extensions": False,
        "allow_persistent_secrets": False,
        "python_enable_replacements": False,  # a Python variable in scope is never read as a table
        "lock_configuration": True,
    }


_OPEN_ATTEMPTS = 3


@contextmanager
def open_read_only(database: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to `database` (the readers' snapshot) that can reach nothing else.

    The snapshot is a link to a generation; a reader that stalled for a whole write between the link's
    name and the file's lock may find that generation being brought up to date (locked) or renamed:
    it opens the link again, which names a whole generation."""
    if not database.exists():
        raise PipelineError(f"no warehouse snapshot at {database}: ingest something first")
    for attempt in range(_OPEN_ATTEMPTS):
        try:
            conn = duckdb.connect(str(database), read_only=True, config=reader_config())
            break
        except duckdb.IOException:
            if attempt == _OPEN_ATTEMPTS - 1:
                raise
            time.sleep(0.05)
    try:
        yield conn
    finally:
        conn.close()
