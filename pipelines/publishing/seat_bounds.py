"""The certainty bounds of an election as of a log position, read from the log through the snapshot.

The counts are the national totals in force at the position (`seat_table.national_totals`), the rules
those in force there (`rules_in_force`), and what is outstanding the declared precincts that had neither
reported nor been annulled by then, each bounded by its declared registered voters
(`pipelines.rules.certainty_bounds`, docs/seat-allocation.md "Certainty bounds").
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipelines.publishing.seat_table import NationalTotals, national_totals
from pipelines.rules.certainty_bounds import SeatBounds, certainty_bounds
from pipelines.rules.rule_profiles import RuleProfile
from pipelines.store.migrations import first_row
from pipelines.store.queries import query


@dataclass(frozen=True)
class BoundsAsOf:
    position: int
    precincts_outstanding: int
    bounds: SeatBounds
    names: dict[str, str]  # list id -> name
    totals: NationalTotals  # the counts they start from


def bounds_as_of(
    conn: duckdb.DuckDBPyConnection, election_id: str, position: int, profile: RuleProfile
) -> BoundsAsOf:
    """Each list's threshold status and seat interval given what had reported by `position`."""
    totals = national_totals(conn, election_id, as_of=position)
    row = first_row(
        conn.execute(query("outstanding_precincts_as_of"), {"election": election_id, "as_of": position})
    )
    precincts, voters = (0, 0) if row is None else (int(str(row[0])), int(str(row[1])))
    bounds = certainty_bounds(
        totals.list_votes,
        profile,
        voters,
        against_all=totals.against_all,
        invalid=totals.invalid_ballots,
        ballots_cast=totals.ballots_cast,
        registered_voters=totals.registered_voters,
    )
    return BoundsAsOf(position, precincts, bounds, {x.list_id: x.name for x in totals.list_votes}, totals)
