"""A validated file of protocols decided against the log as one table operation, not row by row.

Each accepted row is applied (a first report or an amendment), a duplicate of a protocol already
accepted, or quarantined: its precinct was annulled, a different protocol holds its version, or a
newer version is already in force. Validation has already refused files naming a precinct twice, so
every row can be decided on its own, with joins against `protocol_facts` in DuckDB.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from pipelines.domain.election import PrecinctTable
from pipelines.domain.events import PROTOCOL_AMENDED, PROTOCOL_REPORTED
from pipelines.gate.validation import ReportedProtocol
from pipelines.store.event_store import sql_text
from pipelines.store.queries import sql_name as quoted

FIGURE_COLUMNS = ("registered_voters", "ballots_issued", "ballots_cast", "invalid_ballots", "against_all")
# The temp view `decide_protocols` leaves for `EventStore.append_protocols`, one row per event to append;
# it reads the decided batch, which stays until the next file is decided.
TO_APPEND = "_protocols_to_append"


@dataclass(frozen=True)
class BatchDecision:
    applied: int
    duplicates: int
    problems: list[dict[str, Any]]  # quarantined rows, in row order, as `row_problem` dicts


def row_problem(
    file_name: str,
    row: int,
    precinct_id: str | None,
    rule: str,
    message: str,
    column: str | None,
    value: str | None,
) -> dict[str, Any]:
    return {
        "file_name": file_name,
        "row": row,
        "column": column,
        "rule": rule,
        "value": value,
        "message": message,
        "precinct_id": precinct_id,
    }


def _wanted(conn: duckdb.DuckDBPyConnection, precinct_ids: Iterable[str]) -> None:
    frame = pd.DataFrame({"precinct_id": pd.Series(sorted(set(precinct_ids)), dtype="str")})
    _table_from_frame(conn, "_wanted_precincts", frame)


def _table_from_frame(conn: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    view = f"{table}_frame"
    conn.register(view, frame)
    try:
        conn.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {view}")
    finally:
        conn.unregister(view)


def named_precincts(
    conn: duckdb.DuckDBPyConnection, election_id: str, precinct_ids: Sequence[str]
) -> tuple[PrecinctTable, dict[str, ReportedProtocol]]:
    """What validating a file needs of a million precincts: the declared ones among the ids it names,
    and the protocol in force of those that have one. The ids are staged once for both lookups."""
    _wanted(conn, precinct_ids)
    return _declared(conn, election_id), _reported(conn, election_id)


def _declared(conn: duckdb.DuckDBPyConnection, election_id: str) -> PrecinctTable:
    found = conn.execute(
        "SELECT d.precinct_id, d.region_id, d.registered_voters FROM declared_precincts d "
        "JOIN _wanted_precincts USING (precinct_id) WHERE d.election_id = ? ORDER BY d.precinct_id",
        [election_id],
    ).df()
    return PrecinctTable(found["precinct_id"], found["region_id"], found["registered_voters"])


def _reported(conn: duckdb.DuckDBPyConnection, election_id: str) -> dict[str, ReportedProtocol]:
    """The protocol in force (highest accepted version) of each staged precinct that has one."""
    conn.execute(
        """
        CREATE OR REPLACE TEMP TABLE _reported AS
        SELECT f.* FROM protocol_facts f JOIN _wanted_precincts USING (precinct_id)
        WHERE f.election_id = ?
        QUALIFY row_number() OVER (PARTITION BY f.precinct_id ORDER BY f.protocol_version DESC) = 1
        """,
        [election_id],
    )
    figures: dict[int, dict[str, int]] = {}
    versions: dict[int, tuple[str, int]] = {}
    for position, precinct, version, *counts in conn.execute(
        f"SELECT position, precinct_id, protocol_version, {', '.join(FIGURE_COLUMNS)} FROM _reported"
    ).fetchall():
        figures[int(position)] = dict(zip(FIGURE_COLUMNS, (int(c) for c in counts), strict=True))
        versions[int(position)] = (str(precinct), int(version))
    for position, list_id, votes in conn.execute(
        "SELECT v.position, v.list_id, v.votes FROM protocol_votes v JOIN _reported USING (position)"
    ).fetchall():
        figures[int(position)][str(list_id)] = int(votes)
    conn.execute("DROP TABLE _reported")
    return {
        precinct: ReportedProtocol(version=version, figures=figures[position])
        for position, (precinct, version) in versions.items()
    }


def decide_protocols(
    conn: duckdb.DuckDBPyConnection,
    accepted: pd.DataFrame,
    *,
    election_id: str,
    list_ids: Sequence[str],
    file_name: str,
) -> BatchDecision:
    """Decide every accepted row; leave the rows to apply in the temp view `TO_APPEND`.

    `accepted` is `ValidationOutcome.accepted` of a protocol file: one row per precinct, whole numbers.
    """
    lists = ", ".join(quoted(i) for i in list_ids)
    conn.register("_batch", accepted)  # read in place; `TO_APPEND` reads it until the next file
    same_figures = " AND ".join(f"f.{c} = b.{c}" for c in FIGURE_COLUMNS)
    conn.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _same_version AS
        SELECT b.precinct_id, f.position, ({same_figures}) AS figures_equal
        FROM protocol_facts f
        JOIN _batch b ON f.precinct_id = b.precinct_id AND f.protocol_version = b.version
        WHERE f.election_id = $election
        """,
        {"election": election_id},
    )
    # Only rows resent with a version already accepted need their votes compared: usually none.
    conn.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _decided AS
        WITH known AS (
            SELECT f.precinct_id, max(f.protocol_version) AS max_version
            FROM protocol_facts f JOIN _batch b USING (precinct_id)
            WHERE f.election_id = $election GROUP BY f.precinct_id
        ), resent_votes AS (
            UNPIVOT (SELECT precinct_id, {lists} FROM _batch SEMI JOIN _same_version USING (precinct_id))
            ON {lists} INTO NAME list_id VALUE votes
        ), votes_differ AS (
            SELECT s.precinct_id
            FROM _same_version s JOIN protocol_votes v USING (position)
            JOIN resent_votes bv ON bv.precinct_id = s.precinct_id AND bv.list_id = v.list_id
            GROUP BY s.precinct_id
            HAVING count(*) FILTER (WHERE v.votes <> bv.votes) > 0
                OR count(*) <> {len(list_ids)}
        )
        SELECT b.row, b.precinct_id, b.version, k.max_version,
               CASE
                   WHEN a.precinct_id IS NOT NULL THEN 'precinct_annulled'
                   WHEN s.precinct_id IS NOT NULL AND s.figures_equal AND d.precinct_id IS NULL
                       THEN 'duplicate'
                   WHEN s.precinct_id IS NOT NULL THEN 'conflict'
                   WHEN b.version < k.max_version THEN 'stale_version'
                   WHEN k.max_version IS NOT NULL THEN 'amended'
                   ELSE 'reported'
               END AS decision
        FROM _batch b
        LEFT JOIN known k USING (precinct_id)
        LEFT JOIN _same_version s USING (precinct_id)
        LEFT JOIN votes_differ d USING (precinct_id)
        LEFT JOIN (SELECT precinct_id FROM proj_annulments WHERE election_id = $election) a
            USING (precinct_id)
        """,
        {"election": election_id},
    )
    counts = dict(conn.execute("SELECT decision, count(*) FROM _decided GROUP BY decision").fetchall())
    problems = [
        _problem(file_name, int(row), str(pid), int(version), None if top is None else int(top), str(rule))
        for row, pid, version, top, rule in conn.execute(
            "SELECT row, precinct_id, version, max_version, decision FROM _decided "
            "WHERE decision NOT IN ('duplicate', 'amended', 'reported') ORDER BY row"
        ).fetchall()
    ]
    _rows_to_append(conn, election_id=election_id, file_name=file_name, list_ids=list_ids)
    return BatchDecision(
        applied=int(counts.get("reported", 0)) + int(counts.get("amended", 0)),
        duplicates=int(counts.get("duplicate", 0)),
        problems=problems,
    )


def _rows_to_append(
    conn: duckdb.DuckDBPyConnection, *, election_id: str, file_name: str, list_ids: Sequence[str]
) -> None:
    # The gate accepted a row only if its region is the precinct's declared region (rule
    # region_mismatch), so the row's region is the one to store.
    # Payloads are canonical JSON (sorted keys, no spaces); texts are escaped by Python's json, as
    # `canonical_json` does for every other event, so that both paths spell a payload alike.
    # A view takes no parameters: the texts go in as SQL literals.
    name = sql_text(json.dumps(file_name, ensure_ascii=False))
    election = sql_text(election_id)
    amended = conn.execute(
        "SELECT d.row, b.reason FROM _decided d JOIN _batch b USING (row) WHERE d.decision = 'amended'"
    ).fetchall()
    reasons = pd.DataFrame(
        {
            "row": pd.Series([int(r) for r, _ in amended], dtype="int64"),
            "reason_json": pd.Series(
                [json.dumps(str(t), ensure_ascii=False) for _, t in amended], dtype="str"
            ),
        }
    )
    _table_from_frame(conn, "_reasons", reasons)
    conn.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW {TO_APPEND} AS
        SELECT b.row AS seq,
               'precinct:' || {election} || '/' || b.precinct_id AS stream_id,
               CASE d.decision WHEN 'amended' THEN '{PROTOCOL_AMENDED}' ELSE '{PROTOCOL_REPORTED}' END
                   AS event_type,
               CASE d.decision
                   WHEN 'amended' THEN '{{"file_name":' || {name} || ',"reason":' || r.reason_json
                        || ',"row":' || CAST(b.row AS VARCHAR) || ',"supersedes_version":'
                        || CAST(d.max_version AS VARCHAR) || '}}'
                   ELSE '{{"file_name":' || {name} || ',"row":' || CAST(b.row AS VARCHAR) || '}}'
               END AS payload,
               b.precinct_id, b.region AS region_id, b.version AS protocol_version,
               {", ".join(f"b.{c}" for c in (*FIGURE_COLUMNS, *map(quoted, list_ids)))}
        FROM _batch b JOIN _decided d USING (row)
        LEFT JOIN _reasons r USING (row)
        WHERE d.decision IN ('reported', 'amended')
        """,
    )


def _problem(file_name: str, row: int, pid: str, version: int, top: int | None, rule: str) -> dict[str, Any]:
    if rule == "precinct_annulled":
        message = f"precinct {pid} was annulled; its protocols no longer count"
        return row_problem(file_name, row, pid, rule, message, "precinct_id", pid)
    assert top is not None
    if rule == "conflict":
        message = (
            f"precinct {pid} already has a different accepted protocol version {version}; send a "
            f"correction as an amendment with version {top + 1} and a reason"
        )
    else:
        message = f"precinct {pid} is already at protocol version {top}"
    return row_problem(file_name, row, pid, rule, message, "version", str(version))


__all__ = ["TO_APPEND", "BatchDecision", "decide_protocols", "named_precincts"]
