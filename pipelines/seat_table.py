"""National totals of an election and the seat allocation over them, now or as of a log position.

"Now" reads the projections; "as of" reads the log itself, so time travel needs no stored history
of projections. Both give the same answer at the log's head (tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipelines.errors import InputError
from pipelines.migrations import first_row
from pipelines.rule_profiles import RuleProfile, load_profile
from pipelines.seat_allocation import Allocation, ListVotes, allocate
from pipelines.timestamps import parse_utc


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

_CURRENT_SQL = """
WITH live AS (
    SELECT r.*, r.protocol_position AS position FROM proj_precinct_results r
    WHERE r.election_id = $election AND NOT EXISTS (
        SELECT 1 FROM proj_annulments a WHERE a.election_id = r.election_id AND a.precinct_id = r.precinct_id)
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
    prefix = _CURRENT_SQL if as_of is None else _AS_OF_SQL
    params: dict[str, object] = {"election": election_id}
    if as_of is not None:
        params["as_of"] = as_of
    row = first_row(
        conn.execute(
            prefix + "SELECT count(*), coalesce(sum(ballots_cast), 0), coalesce(sum(invalid_ballots), 0), "
            "coalesce(sum(against_all), 0) FROM live",
            params,
        )
    )
    assert row is not None
    votes = dict(
        conn.execute(
            prefix + "SELECT v.list_id, sum(v.votes) FROM live JOIN protocol_votes v USING (position) "
            "GROUP BY v.list_id",
            params,
        ).fetchall()
    )
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
        precincts_counted=int(str(row[0])),
        ballots_cast=int(str(row[1])),
        invalid_ballots=int(str(row[2])),
        against_all=int(str(row[3])),
        list_votes=tuple(
            ListVotes(
                list_id=l_id, name=name, votes=int(votes.get(l_id, 0)), ballot_order=order, candidates=cand
            )
            for l_id, name, order, cand in lists
        ),
    )


def election_profile(conn: duckdb.DuckDBPyConnection, election_id: str) -> RuleProfile:
    row = first_row(
        conn.execute("SELECT rule_profile FROM proj_elections WHERE election_id = ?", [election_id])
    )
    if row is None:
        raise InputError(f"election {election_id!r} is not declared in this warehouse", value=election_id)
    return load_profile(str(row[0]))


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
