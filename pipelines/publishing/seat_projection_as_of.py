"""The seat projection of an election as of a log position, read from the log through the snapshot.

The stations are the declared precincts not annulled by then, with the protocols in force there
(`precinct_figures.precinct_figures_as_of`); the lists, their order and the electorate come from the
national totals as of the position, the rules are the caller's: those in force there
(`pipelines.rules.seat_projection`, docs/seat-allocation.md "Projection").
"""

from __future__ import annotations

import duckdb

from pipelines.publishing.precinct_figures import precinct_figures_as_of
from pipelines.publishing.seat_table import national_totals
from pipelines.rules.rule_profiles import RuleProfile
from pipelines.rules.seat_projection import DEFAULT_REPLICATES, SeatProjection, Station, project_seats


def projection_as_of(
    conn: duckdb.DuckDBPyConnection,
    election_id: str,
    position: int,
    profile: RuleProfile,
    *,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = 0,
) -> SeatProjection:
    """The projected seats and their interval given what had reported by `position`."""
    totals = national_totals(conn, election_id, as_of=position)
    list_ids = [x.list_id for x in totals.list_votes]
    stations = [
        Station(
            region_id=p.region_id,
            registered_voters=p.registered_voters,
            reported=p.state == "reported",
            ballots_cast=p.ballots_cast,
            invalid_ballots=p.invalid_ballots,
            against_all=p.against_all,
            votes=tuple(p.votes.get(list_id, 0) for list_id in list_ids),
        )
        for p in precinct_figures_as_of(conn, election_id, position, list_ids)
        if p.state != "annulled"  # it counts for nothing in the final table either
    ]
    return project_seats(
        totals.list_votes,
        stations,
        profile,
        registered_voters=totals.registered_voters,
        replicates=replicates,
        seed=seed,
    )
