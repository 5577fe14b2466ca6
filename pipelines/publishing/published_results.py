"""What one publication shows, read from the log as of the position it is based on: the results
every publication file (CSV, JSON, NIST export, results page) is rendered from."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from pipelines.core.errors import InputError
from pipelines.domain.events import (
    ELECTION_DECLARED,
    PRECINCT_ANNULLED,
    PRECINCTS_IN_EXPORT,
    PROTOCOL_AMENDED,
    PROTOCOL_REPORTED,
)
from pipelines.publishing.precinct_figures import PrecinctFigures, precinct_figures_as_of
from pipelines.store.migrations import first_row
from pipelines.store.projections import checkpoint

TOTAL_FIELDS = (
    "precincts_expected",
    "precincts_reported",
    "precincts_annulled",
    "precincts_pending",
    "registered_voters",
    "registered_voters_counted",
    "ballots_cast",
    "invalid_ballots",
    "against_all",
)


@dataclass(frozen=True)
class ListInfo:
    list_id: str
    name: str
    ballot_order: int
    color: str | None
    candidates: int | None = None  # the list's length (None: long enough for any seat count)


@dataclass(frozen=True)
class AreaTotals:
    """Figures of one region (or the nation: region_id None) as of the publication's base position."""

    region_id: str | None
    name: str
    figures: Mapping[str, int]  # TOTAL_FIELDS
    votes: Mapping[str, int]  # list_id -> votes of counted precincts


@dataclass(frozen=True)
class HistoryPoint:
    """One publication of the same election up to this one: the seat projection at that moment."""

    publication_id: str
    status: str
    position: int
    based_on_position: int
    published_at: datetime
    precincts_reported: int
    seats: Mapping[str, int]  # list_id -> seats


@dataclass(frozen=True)
class PublishedResults:
    """Everything a publication's files show, read from the log (never from the wall clock)."""

    publication_id: str
    election_id: str
    election_name: str
    election_date: str
    status: str
    position: int
    based_on_position: int
    based_on_hash: str  # event_hash at based_on_position: the log's head the publication saw
    published_at: datetime
    rule_profile: str
    rules: Mapping[str, Any]
    table_sha256: str
    allocation: Sequence[Mapping[str, Any]]
    allocation_inputs: Mapping[str, Any]  # what the allocation was computed from (allocation.json)
    explanation: Sequence[str]
    lists: Sequence[ListInfo]  # ballot order
    national: AreaTotals
    regions: Sequence[AreaTotals]
    history: Sequence[HistoryPoint]  # by position, this publication last
    synthetic: bool
    precincts: Sequence[PrecinctFigures] | None = None  # only when the publication asked for them
    against_all_on_ballot: bool = False

    @property
    def total_seats(self) -> int:
        return sum(int(r["seats"]) for r in self.allocation)

    @property
    def shows_against_all(self) -> bool:
        """Whether "against all" is on the ballot: declared so, counted by the rules, or voted for."""
        return (
            self.against_all_on_ballot
            or self.rules.get("threshold_base") == "valid_list_votes_plus_against_all"
            or self.national.figures["against_all"] > 0
        )

    @property
    def published_at_text(self) -> str:
        return self.published_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# -- reading from the log ----------------------------------------------------------------------

_AREA_SQL = """
WITH declared AS (
    SELECT precinct_id, region_id, registered_voters FROM proj_precincts WHERE election_id = $election
), reported AS (
    SELECT * FROM precinct_results_as_of($election, $as_of)
), annulled AS (
    SELECT DISTINCT precinct_id FROM stg_annulments WHERE election_id = $election AND position <= $as_of
), p AS (
    SELECT d.region_id, d.registered_voters,
           r.precinct_id IS NOT NULL AS reported, a.precinct_id IS NOT NULL AS annulled,
           r.ballots_cast, r.invalid_ballots, r.against_all
    FROM declared d LEFT JOIN reported r USING (precinct_id) LEFT JOIN annulled a USING (precinct_id)
)
SELECT g.region_id, g.name,
       count(p.region_id),
       count(*) FILTER (WHERE p.reported),
       count(*) FILTER (WHERE p.annulled),
       count(*) FILTER (WHERE NOT p.reported AND NOT p.annulled),
       coalesce(sum(p.registered_voters), 0),
       coalesce(sum(p.registered_voters) FILTER (WHERE p.reported AND NOT p.annulled), 0),
       coalesce(sum(p.ballots_cast) FILTER (WHERE NOT p.annulled), 0),
       coalesce(sum(p.invalid_ballots) FILTER (WHERE NOT p.annulled), 0),
       coalesce(sum(p.against_all) FILTER (WHERE NOT p.annulled), 0)
FROM proj_regions g LEFT JOIN p USING (region_id)
WHERE g.election_id = $election
GROUP BY g.region_id, g.name
ORDER BY g.name, g.region_id
"""

_REGION_VOTES_SQL = """
SELECT region_id, list_id, sum(votes) FROM precinct_list_votes_as_of($election, $as_of)
WHERE NOT annulled GROUP BY region_id, list_id
"""


def load_published_results(conn: duckdb.DuckDBPyConnection, publication_id: str) -> PublishedResults:
    """Read one publication and the state of its election at the position it is based on."""
    row = first_row(
        conn.execute(
            "SELECT p.position, e.occurred_at, e.payload FROM proj_publications p "
            "JOIN events e USING (position) WHERE p.publication_id = ?",
            [publication_id],
        )
    )
    if row is None:
        raise InputError(f"no publication {publication_id!r} in this warehouse", value=publication_id)
    position, published_at, payload_text = int(str(row[0])), row[1], str(row[2])
    assert isinstance(published_at, datetime)
    payload: dict[str, Any] = json.loads(payload_text)
    election_row = first_row(
        conn.execute(
            "SELECT e.election_id, e.name, e.election_date, e.synthetic, e.against_all_on_ballot "
            "FROM proj_elections e "
            "JOIN proj_publications p USING (election_id) WHERE p.publication_id = ?",
            [publication_id],
        )
    )
    assert election_row is not None
    election_id = str(election_row[0])
    based_on = int(payload["based_on_position"])
    lists = [
        ListInfo(
            str(lid),
            str(name),
            int(str(order)),
            None if color is None else str(color),
            None if candidates is None else int(str(candidates)),
        )
        for lid, name, order, color, candidates in conn.execute(
            "SELECT list_id, name, ballot_order, color, candidates FROM proj_lists WHERE election_id = ? "
            "ORDER BY ballot_order",
            [election_id],
        ).fetchall()
    ]
    regions = _area_totals(conn, election_id, based_on, lists)
    national = AreaTotals(
        None,
        str(election_row[1]),
        {f: sum(int(r.figures[f]) for r in regions) for f in TOTAL_FIELDS},
        {info.list_id: sum(r.votes[info.list_id] for r in regions) for info in lists},
    )
    head = first_row(conn.execute("SELECT event_hash FROM events WHERE position = ?", [based_on]))
    candidates = dict(
        conn.execute(
            "SELECT list_id, candidates FROM proj_lists WHERE election_id = ?", [election_id]
        ).fetchall()
    )
    return PublishedResults(
        publication_id=publication_id,
        election_id=election_id,
        election_name=str(election_row[1]),
        election_date=str(election_row[2]),
        status=str(payload["status"]),
        position=position,
        based_on_position=based_on,
        based_on_hash="" if head is None else str(head[0]),
        published_at=published_at,
        rule_profile=str(payload["rule_profile"]),
        rules=payload.get("rules", {}),
        table_sha256=str(payload["table_sha256"]),
        allocation=payload["allocation"],
        allocation_inputs=_allocation_inputs(payload, national, candidates),
        explanation=payload.get("explanation", []),
        lists=lists,
        national=national,
        regions=regions,
        history=_history(conn, election_id, position),
        synthetic=bool(election_row[3]),
        precincts=(
            precinct_figures_as_of(conn, election_id, based_on, [info.list_id for info in lists])
            if payload.get(PRECINCTS_IN_EXPORT)
            else None
        ),
        against_all_on_ballot=bool(election_row[4]),
    )


def _allocation_inputs(
    payload: Mapping[str, Any], national: AreaTotals, candidates: Mapping[str, Any]
) -> dict[str, Any]:
    """The figures the allocation was computed from, as the publication event recorded them (the
    national totals as of its position for an event that did not record them)."""
    recorded = payload.get("seats") or [
        {"list_id": r["list_id"], "name": r["name"], "ballot_order": r["ballot_order"], "votes": r["votes"]}
        for r in payload["allocation"]
    ]
    return {
        "lists": [
            {
                "list_id": r["list_id"],
                "name": r["name"],
                "ballot_order": r["ballot_order"],
                "votes": r["votes"],
                "candidates": candidates.get(r["list_id"]),
            }
            for r in recorded
        ],
        **{
            key: int(payload.get(key, national.figures[key]))
            for key in ("ballots_cast", "invalid_ballots", "against_all")
        },
    }


_CURRENT_AREA_SQL = """
SELECT g.region_id, g.name, t.precincts_expected, t.precincts_reported, t.precincts_annulled,
       t.precincts_pending, t.registered_voters, t.registered_voters_counted, t.ballots_cast,
       t.invalid_ballots, t.against_all
FROM proj_regions g JOIN proj_region_totals t USING (election_id, region_id)
WHERE g.election_id = $election
ORDER BY g.name, g.region_id
"""

_CURRENT_REGION_VOTES_SQL = """
SELECT region_id, list_id, votes FROM proj_region_list_votes WHERE election_id = $election
"""

# The events that change an election's results: a publication is based on the last of them.
RESULT_EVENTS = (ELECTION_DECLARED, PROTOCOL_REPORTED, PROTOCOL_AMENDED, PRECINCT_ANNULLED)


def results_unchanged_since(conn: duckdb.DuckDBPyConnection, election_id: str, position: int) -> bool:
    """Whether the projections stand at the log's head and no event after `position` changed this
    election's results: then the running totals are the state as of `position`."""
    marks = ", ".join("?" for _ in RESULT_EVENTS)
    row = first_row(
        conn.execute(
            "SELECT (SELECT coalesce(max(position), 0) FROM events), "
            f"NOT EXISTS (SELECT 1 FROM events WHERE position > ? AND election_id = ? "
            f"AND event_type IN ({marks}))",
            [position, election_id, *RESULT_EVENTS],
        )
    )
    return row is not None and int(str(row[0])) == checkpoint(conn) and bool(row[1])


def _area_totals(
    conn: duckdb.DuckDBPyConnection, election_id: str, based_on: int, lists: Sequence[ListInfo]
) -> list[AreaTotals]:
    """Each region's figures as of `based_on`: the running totals when they stand there (a
    publication of the current results), else counted from the log."""
    params: dict[str, object] = {"election": election_id}
    if results_unchanged_since(conn, election_id, based_on):
        area_sql, votes_sql = _CURRENT_AREA_SQL, _CURRENT_REGION_VOTES_SQL
    else:
        area_sql, votes_sql = _AREA_SQL, _REGION_VOTES_SQL
        params["as_of"] = based_on
    votes: dict[str, dict[str, int]] = {}
    for region_id, list_id, count in conn.execute(votes_sql, params).fetchall():
        votes.setdefault(str(region_id), {})[str(list_id)] = int(count)
    regions = []
    for region_id, name, *figures in conn.execute(area_sql, params).fetchall():
        region_votes = votes.get(str(region_id), {})
        regions.append(
            AreaTotals(
                str(region_id),
                str(name),
                dict(zip(TOTAL_FIELDS, (int(f) for f in figures), strict=True)),
                {info.list_id: region_votes.get(info.list_id, 0) for info in lists},
            )
        )
    return regions


def _history(conn: duckdb.DuckDBPyConnection, election_id: str, up_to: int) -> list[HistoryPoint]:
    rows = conn.execute(
        """
        WITH pubs AS (
            SELECT p.*, g.precincts_reported AS reported
            FROM proj_publications p JOIN proj_publication_progress g USING (publication_id)
            WHERE p.election_id = $election AND p.position <= $up_to
        )
        SELECT p.publication_id, p.status, p.position, p.based_on_position, p.published_at, p.reported,
               s.list_id, s.seats
        FROM pubs p JOIN proj_published_seats s USING (publication_id)
        ORDER BY p.position, s.ballot_order
        """,
        {"election": election_id, "up_to": up_to},
    ).fetchall()
    points: dict[str, HistoryPoint] = {}
    for pub_id, status, position, based_on, at, reported, list_id, seats in rows:
        point = points.get(pub_id)
        if point is None:
            point = HistoryPoint(
                str(pub_id), str(status), int(position), int(based_on), at, int(reported), {}
            )
            points[pub_id] = point
        assert isinstance(point.seats, dict)
        point.seats[str(list_id)] = int(seats)
    return list(points.values())
