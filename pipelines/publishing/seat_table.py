"""National totals of an election and the seat allocation over them, now or as of a log position.

"Now" reads the running totals (proj_region_totals, proj_region_list_votes), which cost nothing
to read whatever the store holds; "as of" reads the log itself, so time travel needs no stored
history of projections. Both give the same answer at the log's head (tested). The rules to apply
come from the log too: `pipelines.store.election_rules.rules_in_force` at the same position.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from pipelines.core.errors import InputError, NoResultsAsOf
from pipelines.core.timestamps import parse_utc
from pipelines.rules.rule_profiles import RuleProfile
from pipelines.rules.seat_allocation import Allocation, ListVotes, allocate
from pipelines.store.migrations import first_row


@dataclass(frozen=True)
class NationalTotals:
    election_id: str
    as_of_position: int
    precincts_counted: int
    ballots_cast: int
    invalid_ballots: int
    against_all: int
    list_votes: tuple[ListVotes, ...]  # in ballot order


# Protocols in force: the latest version per precinct up to a position, minus annulled precincts.
_AS_OF_SQL = """
WITH latest AS (
    SELECT * FROM protocol_facts
    WHERE election_id = $election AND position <= $as_of
    QUALIFY row_number() OVER (PARTITION BY precinct_id ORDER BY position DESC) = 1
), annulled AS (
    SELECT payload->>'$.precinct_id' AS precinct_id FROM events
    WHERE event_type = 'PrecinctAnnulled' AND election_id = $election AND position <= $as_of
), live AS (
    SELECT * FROM latest WHERE precinct_id NOT IN (SELECT precinct_id FROM annulled)
)
"""


def resolve_as_of(conn: duckdb.DuckDBPyConnection, as_of: str | int | None) -> int | None:
    """A log position, or the last position whose event occurred at or before an ISO timestamp."""
    if as_of is None:
        return None
    if isinstance(as_of, int) or str(as_of).isdigit():
        return int(as_of)
    moment = parse_utc(str(as_of), column="as_of")
    row = first_row(
        conn.execute("SELECT coalesce(max(position), 0) FROM events WHERE occurred_at <= ?", [moment])
    )
    return int(str(row[0])) if row else 0


def national_totals(
    conn: duckdb.DuckDBPyConnection, election_id: str, *, as_of: int | None = None
) -> NationalTotals:
    if as_of is None:
        figures, votes = _current_figures(conn, election_id)
    else:
        figures, votes = _figures_as_of(conn, election_id, as_of)
    lists = conn.execute(
        "SELECT list_id, name, ballot_order, candidates FROM proj_lists "
        "WHERE election_id = ? ORDER BY ballot_order",
        [election_id],
    ).fetchall()
    if not lists:
        raise InputError(f"election {election_id!r} is not declared in this warehouse", value=election_id)
    head = first_row(conn.execute("SELECT coalesce(max(position), 0) FROM events"))
    return NationalTotals(
        election_id=election_id,
        as_of_position=as_of if as_of is not None else int(str(head[0])) if head else 0,
        precincts_counted=figures[0],
        ballots_cast=figures[1],
        invalid_ballots=figures[2],
        against_all=figures[3],
        list_votes=tuple(
            ListVotes(
                list_id=l_id, name=name, votes=int(votes.get(l_id, 0)), ballot_order=order, candidates=cand
            )
            for l_id, name, order, cand in lists
        ),
    )


_Figures = tuple[tuple[int, int, int, int], dict[str, int]]


def _current_figures(conn: duckdb.DuckDBPyConnection, election_id: str) -> _Figures:
    """Counted precincts, ballots and votes per list from the running totals."""
    row = first_row(
        conn.execute(
            "SELECT coalesce(sum(precincts_counted), 0), coalesce(sum(ballots_cast), 0), "
            "coalesce(sum(invalid_ballots), 0), coalesce(sum(against_all), 0) "
            "FROM proj_region_totals WHERE election_id = ?",
            [election_id],
        )
    )
    assert row is not None
    votes = conn.execute(
        "SELECT list_id, sum(votes) FROM proj_region_list_votes WHERE election_id = ? GROUP BY list_id",
        [election_id],
    ).fetchall()
    return _ints(row), {str(list_id): int(count) for list_id, count in votes}


def _figures_as_of(conn: duckdb.DuckDBPyConnection, election_id: str, as_of: int) -> _Figures:
    params: dict[str, object] = {"election": election_id, "as_of": as_of}
    row = first_row(
        conn.execute(
            _AS_OF_SQL
            + "SELECT count(*), coalesce(sum(ballots_cast), 0), coalesce(sum(invalid_ballots), 0), "
            "coalesce(sum(against_all), 0) FROM live",
            params,
        )
    )
    assert row is not None
    votes = conn.execute(
        _AS_OF_SQL + "SELECT v.list_id, sum(v.votes) FROM live JOIN protocol_votes v USING (position) "
        "GROUP BY v.list_id",
        params,
    ).fetchall()
    return _ints(row), {str(list_id): int(count) for list_id, count in votes}


def _ints(row: tuple[object, ...]) -> tuple[int, int, int, int]:
    a, b, c, d = (int(str(x)) for x in row)
    return a, b, c, d


def first_result(conn: duckdb.DuckDBPyConnection, election_id: str) -> tuple[int, datetime] | None:
    """Position and time of the election's first reported protocol, or None when none arrived yet."""
    row = first_row(
        conn.execute(
            "SELECT f.position, e.occurred_at FROM protocol_facts f JOIN events e USING (position) "
            "WHERE f.election_id = ? ORDER BY f.position LIMIT 1",
            [election_id],
        )
    )
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


def allocate_totals(totals: NationalTotals, profile: RuleProfile) -> Allocation:
    return allocate(
        totals.list_votes,
        profile,
        against_all=totals.against_all,
        invalid=totals.invalid_ballots,
        ballots_cast=totals.ballots_cast,
    )


def only_election(conn: duckdb.DuckDBPyConnection, election_id: str | None) -> str:
    """The election a command means: the one given, or the only one declared."""
    if election_id is not None:
        return election_id
    ids = [
        r[0] for r in conn.execute("SELECT election_id FROM proj_elections ORDER BY election_id").fetchall()
    ]
    if len(ids) == 1:
        return str(ids[0])
    if not ids:
        raise InputError("no election is declared in this warehouse yet")
    raise InputError(f"several elections are declared ({', '.join(ids)}): choose one with --election")
