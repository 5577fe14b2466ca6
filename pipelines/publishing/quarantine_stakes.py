"""Whether the quarantine of an election could change its table as of a log position, read from the log
through the snapshot (`pipelines.rules.quarantine_materiality`, docs/seat-allocation.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import duckdb

from pipelines.publishing.seat_table import NationalTotals
from pipelines.rules.quarantine_materiality import Counted, Materiality, quarantine_materiality
from pipelines.rules.rule_profiles import RuleProfile
from pipelines.store.migrations import first_row
from pipelines.store.queries import query

QuarantineVerdict = Literal["nothing_quarantined", "cannot_matter", "matters", "may_matter"]


@dataclass(frozen=True)
class QuarantineStakes:
    """The quarantine by a log position and whether it could change the table."""

    entries: int  # quarantined rows and files by the position
    unnamed: int  # of them, naming no declared precinct (files refused whole...)
    precincts: int  # declared precincts named
    registered_voters: int  # theirs
    materiality: Materiality | None  # None: nothing quarantined

    @property
    def verdict(self) -> QuarantineVerdict:
        return "nothing_quarantined" if self.materiality is None else self.materiality.verdict

    @property
    def material(self) -> bool:
        """Whether readers must be warned: the quarantine could change the table, or it is not ruled out."""
        return self.verdict in ("matters", "may_matter")


def quarantine_stakes(
    conn: duckdb.DuckDBPyConnection, totals: NationalTotals, until: int, profile: RuleProfile
) -> QuarantineStakes:
    """The quarantine up to log position `until` against the table over `totals` (as of their position)."""
    params = {"election": totals.election_id, "as_of": totals.as_of_position, "until": until}
    row = first_row(conn.execute(query("quarantine_stakes_as_of"), params))
    entries, unnamed, precincts, voters, against_all, invalid = (int(str(x)) for x in row or (0,) * 6)
    if entries == 0:
        return QuarantineStakes(0, 0, 0, 0, None)
    votes = {
        str(i): int(n)
        for i, n in conn.execute(query("quarantine_stakes_list_votes_as_of"), params).fetchall()
    }
    materiality = quarantine_materiality(
        totals.list_votes,
        profile,
        None if unnamed else voters,
        Counted(votes, against_all, invalid),
        against_all=totals.against_all,
        invalid=totals.invalid_ballots,
        ballots_cast=totals.ballots_cast,
        registered_voters=totals.registered_voters,
    )
    return QuarantineStakes(entries, unnamed, precincts, voters, materiality)
