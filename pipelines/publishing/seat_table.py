"""National totals of an election and the seat allocation over them, now or as of a log position.

"Now" reads the running totals (proj_region_totals, proj_region_list_votes), which cost nothing
to read whatever the store holds; "as of" reads the log itself, so time travel needs no stored
history of projections. Both give the same answer at the log's head (tested). The rules to apply
come from the log too: `pipelines.store.election_rules.rules_in_force` at the same position.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import duckdb

from pipelines.core.errors import InputError, NoResultsAsOf
from pipelines.core.timestamps import parse_utc
from pipelines.domain.events import ELECTION_DECLARED
from pipelines.domain.list_kinds import PARTY
from pipelines.rules.rule_profiles import RuleProfile
from pipelines.rules.seat_allocation import Allocation, ListVotes, allocate
from pipelines.store.migrations import first_row
from pipelines.store.queries import query


@dataclass(frozen=True)
class NationalTotals:
    election_id: str
    as_of_position: int
    precincts_counted: int
    ballots_cast: int
    invalid_ballots: int
    against_all: int
    list_votes: tuple[ListVotes, ...]  # in ballot order
    registered_voters: int = 0  # of every declared precinct: the electorate, whoever reported


def resolve_as_of(conn: duckdb.DuckDBPyConnection, as_of: str | int | None) -> int | None:
    """A log position, or the last position whose event occurred at or before an ISO timestamp."""
    if as_of is None:
        return None
    if isinstance(as_of, int) or str(as_of).isdigit():
        return int(as_of)
    moment = parse_utc(str(as_of), column="as_of")
    row = first_row(conn.execute(query("last_position_by_time"), {"moment": moment}))
    return int(str(row[0])) if row else 0


def national_totals(
    conn: duckdb.DuckDBPyConnection, election_id: str, *, as_of: int | None = None
) -> NationalTotals:
    if as_of is None:
        figures, votes = _national_figures(
            conn, query("national_figures"), query("national_list_votes"), {"election": election_id}
        )
    else:
        figures, votes = _national_figures(
            conn,
            query("national_figures_as_of"),
            query("national_list_votes_as_of"),
            {"election": election_id, "as_of": as_of},
        )
    lists = conn.execute(query("election_lists"), {"election": election_id}).fetchall()
    if not lists:
        raise InputError(f"election {election_id!r} is not declared in this warehouse", value=election_id)
    head = first_row(conn.execute(query("log_head_position")))
    electorate = first_row(conn.execute(query("declared_registered_voters"), {"election": election_id}))
    kinds = declared_list_kinds(conn, election_id)
    return NationalTotals(
        election_id=election_id,
        as_of_position=as_of if as_of is not None else int(str(head[0])) if head else 0,
        precincts_counted=figures[0],
        ballots_cast=figures[1],
        invalid_ballots=figures[2],
        against_all=figures[3],
        list_votes=tuple(
            ListVotes(
                list_id=l_id,
                name=name,
                votes=int(votes.get(l_id, 0)),
                ballot_order=order,
                candidates=cand,
                kind=kinds.get(l_id, PARTY),
            )
            for l_id, name, order, _color, cand in lists
        ),
        registered_voters=int(str(electorate[0])) if electorate else 0,
    )


_Figures = tuple[tuple[int, int, int, int], dict[str, int]]


def _national_figures(
    conn: duckdb.DuckDBPyConnection, figures_sql: str, votes_sql: str, params: dict[str, object]
) -> _Figures:
    """Counted precincts, ballots and votes per list: now from the running totals, or as of a
    position from the log (the as-of macro's protocols in force)."""
    row = first_row(conn.execute(figures_sql, params))
    assert row is not None
    votes = conn.execute(votes_sql, params).fetchall()
    return _ints(row), {str(list_id): int(count) for list_id, count in votes}


def _ints(row: tuple[object, ...]) -> tuple[int, int, int, int]:
    a, b, c, d = (int(str(x)) for x in row)
    return a, b, c, d


def first_result(conn: duckdb.DuckDBPyConnection, election_id: str) -> tuple[int, datetime] | None:
    """Position and time of the election's first reported protocol, or None when none arrived yet."""
    row = first_row(conn.execute(query("first_result"), {"election": election_id}))
    if row is None:
        return None
    at = row[1]
    assert isinstance(at, datetime)
    return int(str(row[0])), at


def require_results_by(
    conn: duckdb.DuckDBPyConnection, election_id: str, position: int, asked: str | int
) -> None:
    """Raise NoResultsAsOf when no protocol of the election had arrived by `position` (asked as `asked`)."""
    first = first_result(conn, election_id)
    if first is not None and first[0] <= position:
        return
    moment = f"log position {asked}" if isinstance(asked, int) or str(asked).isdigit() else str(asked)
    if first is None:
        raise NoResultsAsOf(f"no results of {election_id} reported by {moment}; none has arrived yet")
    raise NoResultsAsOf(
        f"no results of {election_id} reported by {moment}; the first arrived at "
        f"{first[1].strftime('%Y-%m-%dT%H:%M:%SZ')} (log position {first[0]})"
    )


def declared_list_kinds(conn: duckdb.DuckDBPyConnection, election_id: str) -> dict[str, str]:
    """The kind of each list declared other than a party, read from the election's ElectionDeclared
    event in the log (its payload carries `kind` only for such lists)."""
    row = first_row(
        conn.execute(
            query("election_declaration_payload"), {"election": election_id, "declared": ELECTION_DECLARED}
        )
    )
    if row is None:
        return {}
    lists = json.loads(str(row[0])).get("lists", [])
    return {str(item["list_id"]): str(item["kind"]) for item in lists if item.get("kind", PARTY) != PARTY}


def allocate_totals(totals: NationalTotals, profile: RuleProfile) -> Allocation:
    return allocate(
        totals.list_votes,
        profile,
        against_all=totals.against_all,
        invalid=totals.invalid_ballots,
        ballots_cast=totals.ballots_cast,
        registered_voters=totals.registered_voters,
    )


def only_election(conn: duckdb.DuckDBPyConnection, election_id: str | None) -> str:
    """The election a command means: the one given, or the only one declared."""
    if election_id is not None:
        return election_id
    ids = [r[0] for r in conn.execute(query("election_ids")).fetchall()]
    if len(ids) == 1:
        return str(ids[0])
    if not ids:
        raise InputError("no election is declared in this warehouse yet")
    raise InputError(f"several elections are declared ({', '.join(ids)}): choose one with --election")
