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
import pyarrow as pa

from pipelines.domain.election import PrecinctTable
from pipelines.domain.events import PROTOCOL_AMENDED, PROTOCOL_REPORTED
from pipelines.gate.validation import ReportedProtocol
from pipelines.store.queries import query, statement

FIGURE_COLUMNS = ("registered_voters", "ballots_issued", "ballots_cast", "invalid_ballots", "against_all")
# The temp view `decide_protocols` leaves for `EventStore.append_files`, one row per event to append
# (statements/create_protocols_to_append.sql); it reads the decided batch, which stays until the next
# decision.
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
    # Every use joins on the ids, so their order does not matter: sorting 100,000 ids in Python cost
    # more than the lookups themselves at a million precincts.
    ids = pa.table({"precinct_id": pa.array(list(set(precinct_ids)), type=pa.string())})
    _table_from_frame(conn, "_wanted_precincts", ids)


def _table_from_frame(conn: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame | pa.Table) -> None:
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
    # As Arrow columns, which the table keeps as they come, not through pandas.
    found = conn.sql(query("declared_precincts_wanted"), params={"election": election_id}).to_arrow_table()
    return PrecinctTable(found["precinct_id"], found["region_id"], found["registered_voters"])


def _reported(conn: duckdb.DuckDBPyConnection, election_id: str) -> dict[str, ReportedProtocol]:
    """The protocol in force (highest accepted version) of each staged precinct that has one."""
    conn.execute(statement("create_reported_in_force"), {"election": election_id})
    figures: dict[int, dict[str, int]] = {}
    versions: dict[int, tuple[str, int]] = {}
    for position, precinct, version, *counts in conn.execute(query("reported_figures")).fetchall():
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


@dataclass(frozen=True)
class FileToDecide:
    """A validated protocol file to decide: its name and `ValidationOutcome.accepted` (one row per
    precinct, whole numbers)."""

    file_name: str
    accepted: pd.DataFrame


def decide_protocols(
    conn: duckdb.DuckDBPyConnection,
    files: Sequence[FileToDecide],
    *,
    election_id: str,
    list_ids: Sequence[str],
) -> list[BatchDecision]:
    """Decide every accepted row of the files, one decision per file; leave the rows to apply in the
    temp view `TO_APPEND`, each with its file's place in `files` as `file_no`.

    Every row is decided against the log alone, so no precinct may be named by two of the files
    (the caller decides such files apart, the later after the earlier is appended).
    """
    frames = [f.accepted.assign(file_no=number) for number, f in enumerate(files)]
    batch = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if batch["precinct_id"].duplicated().any():
        raise ValueError("files decided together name a precinct twice")
    conn.register("_batch", batch)  # read in place; `TO_APPEND` reads it until the next decision
    conn.execute(statement("create_same_version"), {"election": election_id})
    conn.execute(
        statement("create_decided_protocols", lists=list_ids),
        {"election": election_id, "list_count": len(list_ids)},
    )
    counts: dict[tuple[int, str], int] = {
        (int(f), str(d)): int(c)
        for f, d, c in conn.execute(
            "SELECT file_no, decision, count(*) FROM _decided GROUP BY file_no, decision"
        ).fetchall()
    }
    problems: list[list[dict[str, Any]]] = [[] for _ in files]
    for file_no, row, pid, version, top, rule in conn.execute(query("refused_decisions")).fetchall():
        name = files[int(file_no)].file_name
        problems[int(file_no)].append(
            _problem(name, int(row), str(pid), int(version), None if top is None else int(top), str(rule))
        )
    _rows_to_append(conn, election_id=election_id, file_names=[f.file_name for f in files], list_ids=list_ids)
    return [
        BatchDecision(
            applied=counts.get((number, "reported"), 0) + counts.get((number, "amended"), 0),
            duplicates=counts.get((number, "duplicate"), 0),
            problems=problems[number],
        )
        for number in range(len(files))
    ]


def _rows_to_append(
    conn: duckdb.DuckDBPyConnection, *, election_id: str, file_names: Sequence[str], list_ids: Sequence[str]
) -> None:
    """Leave the view `TO_APPEND`. A view takes no parameters: the texts its rows share (election,
    event types) go into a one-row table it reads, each file's name into another, the reasons of
    amendments into a third."""
    amended = conn.execute(query("amended_rows_reasons")).fetchall()
    reasons = pd.DataFrame(
        {
            "file_no": pd.Series([int(f) for f, _, _ in amended], dtype="int64"),
            "row": pd.Series([int(r) for _, r, _ in amended], dtype="int64"),
            "reason_json": pd.Series(
                [json.dumps(str(t), ensure_ascii=False) for _, _, t in amended], dtype="str"
            ),
        }
    )
    _table_from_frame(conn, "_reasons", reasons)
    names = pd.DataFrame(
        {
            "file_no": pd.Series(range(len(file_names)), dtype="int64"),
            "file_name_json": pd.Series([json.dumps(n, ensure_ascii=False) for n in file_names], dtype="str"),
        }
    )
    _table_from_frame(conn, "_append_files", names)
    conn.execute(
        statement("create_append_context"),
        {"election": election_id, "reported": PROTOCOL_REPORTED, "amended": PROTOCOL_AMENDED},
    )
    conn.execute(statement("create_protocols_to_append", lists=list_ids))


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


__all__ = ["TO_APPEND", "BatchDecision", "FileToDecide", "decide_protocols", "named_precincts"]
