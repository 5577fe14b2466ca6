"""What changed between two publications of one election, and which events of the log caused it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from pipelines.core.errors import InputError
from pipelines.store.migrations import first_row
from pipelines.store.queries import query

_RESULT_EVENT_TYPES = (
    "ElectionDeclared",
    "ProtocolReported",
    "ProtocolAmended",
    "PrecinctAnnulled",
    "RulesAmended",
)


@dataclass(frozen=True)
class PublicationRef:
    publication_id: str
    election_id: str
    status: str
    based_on_position: int


@dataclass(frozen=True)
class PublicationDiff:
    before: PublicationRef
    after: PublicationRef
    lists: list[dict[str, Any]]  # list_id, name, votes_before/after/change, seats_before/after/change
    precincts: list[dict[str, Any]]  # precincts whose protocol in force changed, per list
    events: list[dict[str, Any]]  # events of the election in (before, after]: position, type, precinct, file

    @property
    def changed_lists(self) -> list[dict[str, Any]]:
        return [r for r in self.lists if r["votes_change"] or r["seats_change"]]


def _ref(conn: duckdb.DuckDBPyConnection, publication_id: str) -> PublicationRef:
    row = first_row(conn.execute(query("publication_ref"), {"publication": publication_id}))
    if row is None:
        raise InputError(
            f"no publication {publication_id!r}: `elections publications` lists them",
            column="publication_id",
            value=publication_id,
        )
    return PublicationRef(str(row[0]), str(row[1]), str(row[2]), int(str(row[3])))


def _dicts(conn: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    columns = [d[0] for d in cursor.description or []]
    return [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]


def diff_publications(conn: duckdb.DuckDBPyConnection, before_id: str, after_id: str) -> PublicationDiff:
    """Votes and seats per list of two publications of one election, the precincts whose protocol in
    force changed, and the result events with positions in (based_on of before, based_on of after]."""
    before, after = _ref(conn, before_id), _ref(conn, after_id)
    if before.election_id != after.election_id:
        raise InputError(
            f"{before_id} and {after_id} belong to different elections "
            f"({before.election_id}, {after.election_id}); diff compares publications of one election",
            value=after_id,
        )
    params: dict[str, Any] = {
        "election": before.election_id,
        "before": before.publication_id,
        "after": after.publication_id,
    }
    lists = _dicts(conn, query("publication_diff_lists"), params)
    positions = {
        "election": before.election_id,
        "pos_before": before.based_on_position,
        "pos_after": after.based_on_position,
    }
    precincts = _dicts(conn, query("publication_diff_precincts"), positions)
    low, high = sorted((before.based_on_position, after.based_on_position))
    events = _dicts(
        conn,
        query("publication_diff_events"),
        {**positions, "pos_before": low, "pos_after": high, "event_types": list(_RESULT_EVENT_TYPES)},
    )
    return PublicationDiff(before, after, lists, precincts, events)


def diff_lines(diff: PublicationDiff) -> list[str]:
    """A plain-text account for people."""
    b, a = diff.before, diff.after
    out = [
        f"{b.publication_id} (log position {b.based_on_position}, {b.status})",
        f"  -> {a.publication_id} (log position {a.based_on_position}, {a.status})",
        "",
        "Lists (votes and seats, before -> after):",
    ]
    for r in diff.lists:
        out.append(
            f"  {r['name']}: votes {r['votes_before']:,} -> {r['votes_after']:,} ({r['votes_change']:+,}); "
            f"seats {r['seats_before']} -> {r['seats_after']} ({r['seats_change']:+})"
        )
    out.append("")
    changed = sorted({str(p["precinct_id"]) for p in diff.precincts})
    out.append(f"Precincts whose protocol in force changed: {len(changed)}")
    for pid in changed:
        parts = [
            f"{p['list_id']} {p['votes_change']:+,}"
            for p in diff.precincts
            if p["precinct_id"] == pid and p["votes_change"]
        ]
        annulled = any(p["annulled_after"] for p in diff.precincts if p["precinct_id"] == pid)
        out.append(
            f"  {pid}: " + (", ".join(parts) or "no vote change") + (" (annulled)" if annulled else "")
        )
    out.append("")
    out.append(f"Events that caused it: {len(diff.events)}")
    for e in diff.events:
        where = e["precinct_id"] or "-"
        source = e["file_name"] or "-"
        if e["row_number"] is not None:
            source += f" row {e['row_number']}"
        out.append(f"  {e['position']:>8}  {e['event_type']:<17} {where:<20} {source}")
    return out
