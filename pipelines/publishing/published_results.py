"""What one publication shows, read from the log as of the position it is based on: the results
every publication file (CSV, JSON, NIST export, results page) is rendered from."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from pipelines.core.errors import InputError
from pipelines.domain.events import (
    CERTIFICATION_REVOKED,
    ELECTION_DECLARED,
    PRECINCT_ANNULLED,
    PRECINCTS_IN_EXPORT,
    PROTOCOL_AMENDED,
    PROTOCOL_REPORTED,
)
from pipelines.publishing.precinct_figures import PrecinctFigures, precinct_figures_as_of
from pipelines.publishing.publication_certainty import PublicationCertainty, publication_certainty
from pipelines.publishing.publication_layout import FIRST_PUBLICATION_FORMAT
from pipelines.store.migrations import first_row
from pipelines.store.projections import checkpoint
from pipelines.store.queries import query

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
    # The certification whose revocation this publication was appended with (manifest `revokes`).
    revokes: Mapping[str, Any] | None = None
    publication_format: int = FIRST_PUBLICATION_FORMAT  # how its folder is written (publication_layout)
    # From format 4: the certainty bounds and the quarantine's materiality, from what its event recorded.
    certainty: PublicationCertainty | None = None

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


def load_published_results(
    conn: duckdb.DuckDBPyConnection,
    publication_id: str,
    *,
    counted: Mapping[tuple[str, int], Sequence[AreaTotals]] | None = None,
) -> PublishedResults:
    """Read one publication and the state of its election at the position it is based on; `counted`
    may hold that state already, by (election, position), as `area_totals_of_publications` gives it."""
    row = first_row(conn.execute(query("publication_event"), {"publication": publication_id}))
    if row is None:
        raise InputError(f"no publication {publication_id!r} in this warehouse", value=publication_id)
    position, published_at, payload_text = int(str(row[0])), row[1], str(row[2])
    assert isinstance(published_at, datetime)
    payload: dict[str, Any] = json.loads(payload_text)
    election_row = first_row(conn.execute(query("publication_election"), {"publication": publication_id}))
    assert election_row is not None
    election_id = str(election_row[0])
    based_on = int(payload["based_on_position"])
    lists = election_lists(conn, election_id)
    known = None if counted is None else counted.get((election_id, based_on))
    regions = list(known) if known is not None else _area_totals(conn, election_id, based_on, lists)
    national = AreaTotals(
        None,
        str(election_row[1]),
        {f: sum(int(r.figures[f]) for r in regions) for f in TOTAL_FIELDS},
        {info.list_id: sum(r.votes[info.list_id] for r in regions) for info in lists},
    )
    publication_format = int(payload.get("publication_format", FIRST_PUBLICATION_FORMAT))
    head = first_row(conn.execute(query("event_hash_at"), {"position": based_on}))
    allocation_inputs = _allocation_inputs(payload, national, lists)
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
        allocation_inputs=allocation_inputs,
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
        # Format 1 came before publications were appended with a revocation.
        revokes=None
        if publication_format == FIRST_PUBLICATION_FORMAT
        else _revocation_published_with(conn, election_id, position),
        publication_format=publication_format,
        certainty=(
            publication_certainty(
                payload["rules"], allocation_inputs, payload["outstanding"], payload["quarantined"]
            )
            if "outstanding" in payload
            else None
        ),
    )


def _revocation_published_with(
    conn: duckdb.DuckDBPyConnection, election_id: str, position: int
) -> dict[str, Any] | None:
    """The revocation a publication was appended with (the CertificationRevoked event of its election
    right before it, as `elections decertify` appends them), read from the log; None for any other."""
    row = first_row(
        conn.execute(
            query("revocation_published_with"),
            {"election": election_id, "revoked": CERTIFICATION_REVOKED, "position": position},
        )
    )
    if row is None:
        return None
    at = row[1]
    assert isinstance(at, datetime)
    payload = json.loads(str(row[2]))
    return {
        "publication_id": str(payload["publication_id"]),
        "certified_position": int(payload["certified_position"]),
        "revoked_position": int(str(row[0])),
        "revoked_at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "reason": str(payload["reason"]),
        "decided_by": str(payload["decided_by"]),
    }


def election_lists(conn: duckdb.DuckDBPyConnection, election_id: str) -> list[ListInfo]:
    """The lists of an election in ballot order."""
    return [
        ListInfo(
            str(lid),
            str(name),
            int(str(order)),
            None if color is None else str(color),
            None if candidates is None else int(str(candidates)),
        )
        for lid, name, order, color, candidates in conn.execute(
            query("election_lists"), {"election": election_id}
        ).fetchall()
    ]


def _allocation_inputs(
    payload: Mapping[str, Any], national: AreaTotals, lists: Sequence[ListInfo]
) -> dict[str, Any]:
    """The figures the allocation was computed from, as the publication event recorded them (the
    national totals as of its position for an event that did not record them)."""
    recorded = payload.get("seats") or [
        {"list_id": r["list_id"], "name": r["name"], "ballot_order": r["ballot_order"], "votes": r["votes"]}
        for r in payload["allocation"]
    ]
    candidates = {info.list_id: info.candidates for info in lists}
    return {
        "lists": [
            {
                "list_id": r["list_id"],
                "name": r["name"],
                "ballot_order": r["ballot_order"],
                "votes": r["votes"],
                "candidates": candidates.get(r["list_id"]),
                **({"kind": r["kind"]} if "kind" in r else {}),
            }
            for r in recorded
        ],
        **{
            key: int(payload.get(key, national.figures[key]))
            for key in ("ballots_cast", "invalid_ballots", "against_all")
        },
        # Only publications under a threshold on registered voters recorded (and need) them.
        **(
            {"registered_voters": int(payload["registered_voters"])} if "registered_voters" in payload else {}
        ),
    }


# The events that change an election's results: a publication is based on the last of them.
RESULT_EVENTS = (ELECTION_DECLARED, PROTOCOL_REPORTED, PROTOCOL_AMENDED, PRECINCT_ANNULLED)


def results_unchanged_since(conn: duckdb.DuckDBPyConnection, election_id: str, position: int) -> bool:
    """Whether the projections stand at the log's head and no event after `position` changed this
    election's results: then the running totals are the state as of `position`."""
    row = first_row(
        conn.execute(
            query("results_unchanged_since"),
            {"position": position, "election": election_id, "result_events": list(RESULT_EVENTS)},
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
        area_sql, votes_sql = query("region_totals"), query("region_list_votes")
    else:
        area_sql, votes_sql = query("region_totals_as_of"), query("region_list_votes_as_of")
        params["as_of"] = based_on
    votes: dict[str, dict[str, int]] = {}
    for region_id, list_id, count in conn.execute(votes_sql, params).fetchall():
        votes.setdefault(str(region_id), {})[str(list_id)] = int(count)
    return [
        _area(region_id, name, figures, votes.get(str(region_id), {}), lists)
        for region_id, name, *figures in conn.execute(area_sql, params).fetchall()
    ]


def area_totals_as_of(
    conn: duckdb.DuckDBPyConnection, election_id: str, positions: Iterable[int], lists: Sequence[ListInfo]
) -> dict[int, list[AreaTotals]]:
    """Each region's figures at each of `positions` as `_area_totals` counts them from the log, all in
    one pass over it: rendering a night's publications again costs one count, not one each."""
    wanted = sorted(set(positions))
    if not wanted:
        return {}
    params: dict[str, object] = {"election": election_id, "positions": wanted}
    votes: dict[tuple[int, str], dict[str, int]] = {}
    for as_of, region_id, list_id, count in conn.execute(
        query("region_list_votes_at_positions"), params
    ).fetchall():
        votes.setdefault((int(as_of), str(region_id)), {})[str(list_id)] = int(count)
    totals: dict[int, list[AreaTotals]] = {position: [] for position in wanted}
    for as_of, region_id, name, *figures in conn.execute(
        query("region_totals_at_positions"), params
    ).fetchall():
        region_votes = votes.get((int(as_of), str(region_id)), {})
        totals[int(as_of)].append(_area(region_id, name, figures, region_votes, lists))
    return totals


def area_totals_of_publications(conn: duckdb.DuckDBPyConnection) -> dict[tuple[str, int], list[AreaTotals]]:
    """The regions of every publication as of its base, by (election, position), for
    `load_published_results`: one pass over the log per election."""
    bases: dict[str, set[int]] = {}
    for election_id, based_on in conn.execute(query("publication_bases")).fetchall():
        bases.setdefault(str(election_id), set()).add(int(based_on))
    return {
        (election_id, position): regions
        for election_id, positions in bases.items()
        for position, regions in area_totals_as_of(
            conn, election_id, positions, election_lists(conn, election_id)
        ).items()
    }


def _area(
    region_id: object,
    name: object,
    figures: Sequence[Any],
    votes: Mapping[str, int],
    lists: Sequence[ListInfo],
) -> AreaTotals:
    return AreaTotals(
        str(region_id),
        str(name),
        dict(zip(TOTAL_FIELDS, (int(f) for f in figures), strict=True)),
        {info.list_id: votes.get(info.list_id, 0) for info in lists},
    )


def _history(conn: duckdb.DuckDBPyConnection, election_id: str, up_to: int) -> list[HistoryPoint]:
    rows = conn.execute(
        query("publication_history"),
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
