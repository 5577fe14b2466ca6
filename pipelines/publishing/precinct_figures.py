"""Each declared precinct's state and figures as of a log position (for precinct-level exports)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import duckdb

from pipelines.store.queries import query

PRECINCT_STATES = ("reported", "pending", "annulled")


@dataclass(frozen=True)
class PrecinctFigures:
    """One precinct: its protocol in force when `state` is 'reported'; zeros and no votes otherwise
    (an annulled precinct's protocol counts for nothing)."""

    precinct_id: str
    region_id: str
    state: str  # PRECINCT_STATES
    registered_voters: int
    ballots_cast: int
    invalid_ballots: int
    against_all: int
    votes: Mapping[str, int]  # list_id -> votes; empty unless reported


def precinct_figures_as_of(
    conn: duckdb.DuckDBPyConnection, election_id: str, as_of: int, list_ids: Sequence[str]
) -> list[PrecinctFigures]:
    """Every declared precinct of the election, by region then precinct id."""
    params: dict[str, object] = {"election": election_id, "as_of": as_of}
    votes: dict[str, dict[str, int]] = {}
    for precinct_id, list_id, count in conn.execute(query("precinct_list_votes_in_force"), params).fetchall():
        votes.setdefault(str(precinct_id), {})[str(list_id)] = int(count)
    precincts = []
    for precinct_id, region_id, state, registered, cast, invalid, against in conn.execute(
        query("precinct_figures_as_of"), params
    ).fetchall():
        reported = state == "reported"
        counted = votes.get(str(precinct_id), {})
        precincts.append(
            PrecinctFigures(
                str(precinct_id),
                str(region_id),
                str(state),
                int(registered),
                int(cast) if reported else 0,
                int(invalid) if reported else 0,
                int(against) if reported else 0,
                {list_id: counted.get(list_id, 0) for list_id in list_ids} if reported else {},
            )
        )
    return precincts
