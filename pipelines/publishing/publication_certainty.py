"""What a publication states is still open (publication format 4 on): the certainty bounds of its table
given the declared precincts outstanding, and whether its quarantine could change the table.

Their inputs are recorded in the publication's event when it is appended (`recorded_inputs`: the
precincts outstanding and what the quarantine names, read from the projections the table was
allocated over, at the head of the log), so that rendering the folder again, as `elections verify`
does, gives the same statement from the log alone and cheaply: the bounds and the materiality are pure
functions of those figures, the table's totals and its rules (`pipelines.rules.certainty_bounds`,
`pipelines.rules.quarantine_materiality`; docs/seat-allocation.md "Certainty bounds").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from pipelines.domain.list_kinds import PARTY
from pipelines.publishing.quarantine_stakes import QuarantineStakes
from pipelines.rules.certainty_bounds import SeatBounds, certainty_bounds
from pipelines.rules.list_votes import ListVotes
from pipelines.rules.quarantine_materiality import Counted, quarantine_materiality
from pipelines.rules.rule_profiles import parse_profile
from pipelines.store.migrations import first_row
from pipelines.store.queries import query


@dataclass(frozen=True)
class PublicationCertainty:
    precincts_outstanding: int
    outstanding_voters: int  # the registered voters of the precincts outstanding: ballots still possible
    bounds: SeatBounds
    quarantine: QuarantineStakes


def recorded_inputs(
    conn: duckdb.DuckDBPyConnection, election_id: str
) -> tuple[dict[str, int], dict[str, Any]]:
    """What a publication appended now records: (outstanding, quarantined), from the projections."""
    params = {"election": election_id}
    row = first_row(conn.execute(query("outstanding_precincts_now"), params))
    precincts, voters = (0, 0) if row is None else (int(str(row[0])), int(str(row[1])))
    outstanding = {"precincts": precincts, "registered_voters": voters}
    stakes = first_row(conn.execute(query("quarantine_stakes_now"), params))
    entries, unnamed, named, named_voters, against_all, invalid = (int(str(x)) for x in stakes or (0,) * 6)
    if entries == 0:
        return outstanding, {"entries": 0}
    votes = {
        str(list_id): int(count)
        for list_id, count in conn.execute(query("quarantine_stakes_list_votes_now"), params).fetchall()
    }
    return outstanding, {
        "entries": entries,
        "unnamed": unnamed,
        "precincts": named,
        "registered_voters": named_voters,
        "against_all": against_all,
        "invalid_ballots": invalid,
        "list_votes": votes,
    }


def publication_certainty(
    rules: Mapping[str, Any],
    inputs: Mapping[str, Any],
    outstanding: Mapping[str, Any],
    quarantined: Mapping[str, Any],
) -> PublicationCertainty:
    """The statement from the recorded figures: `rules` as the event recorded them, `inputs` the totals
    the table was allocated over (allocation.json's), `outstanding` and `quarantined` as
    `recorded_inputs` gave them."""
    profile = parse_profile(rules)
    lists = [
        ListVotes(
            list_id=str(r["list_id"]),
            name=str(r["name"]),
            votes=int(r["votes"]),
            ballot_order=r.get("ballot_order"),
            candidates=r.get("candidates"),
            kind=str(r.get("kind", PARTY)),
        )
        for r in inputs["lists"]
    ]
    totals: dict[str, Any] = {
        "against_all": int(inputs["against_all"]),
        "invalid": int(inputs["invalid_ballots"]),
        "ballots_cast": int(inputs["ballots_cast"]),
        "registered_voters": inputs.get("registered_voters"),
    }
    voters = int(outstanding["registered_voters"])
    bounds = certainty_bounds(lists, profile, voters, **totals)
    entries = int(quarantined["entries"])
    if entries == 0:
        stakes = QuarantineStakes(0, 0, 0, 0, None)
    else:
        unnamed = int(quarantined["unnamed"])
        at_stake = int(quarantined["registered_voters"])
        counted = Counted(
            {str(k): int(v) for k, v in quarantined["list_votes"].items()},
            int(quarantined["against_all"]),
            int(quarantined["invalid_ballots"]),
        )
        materiality = quarantine_materiality(lists, profile, None if unnamed else at_stake, counted, **totals)
        stakes = QuarantineStakes(entries, unnamed, int(quarantined["precincts"]), at_stake, materiality)
    return PublicationCertainty(int(outstanding["precincts"]), voters, bounds, stakes)


def at_stake_lists(certainty: PublicationCertainty, seats_now: Mapping[str, tuple[int, bool]]) -> list[str]:
    """The lists whose seats or threshold the quarantine could change, by the bounds of its precincts
    (list id -> seats and passed now): what is at stake. Every list when it cannot be bounded."""
    materiality = certainty.quarantine.materiality
    if materiality is None or materiality.verdict == "cannot_matter":
        return []
    if materiality.bounds is None:
        return list(seats_now)
    return [
        b.list_id
        for b in materiality.bounds.lists
        if not b.min_seats == b.max_seats == seats_now[b.list_id][0]
        or b.status != ("certain" if seats_now[b.list_id][1] else "out")
    ]


def certainty_document(
    certainty: PublicationCertainty, seats_now: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """certainty.json's statement (its `about` keys aside): `seats_now` the table's records by list id."""
    bounds = certainty.bounds
    quarantine = certainty.quarantine
    m = quarantine.materiality
    now = {i: (int(r["seats"]), bool(r["passed_threshold"])) for i, r in seats_now.items()}
    return {
        "bounds": {
            "precincts_outstanding": certainty.precincts_outstanding,
            "outstanding_registered_voters": certainty.outstanding_voters,
            "total_seats": bounds.total_seats,
            "decided_seats": bounds.decided,
            "exact": bounds.exact,
            "fallback": bounds.fallback,
            "lists": [
                {
                    "list_id": b.list_id,
                    "name": str(seats_now[b.list_id]["name"]),
                    "threshold": b.status,
                    "min_seats": b.min_seats,
                    "max_seats": b.max_seats,
                    "seats_now": now[b.list_id][0],
                }
                for b in bounds.lists
            ],
        },
        "quarantine": {
            "entries": quarantine.entries,
            "naming_no_declared_precinct": quarantine.unnamed,
            "precincts": quarantine.precincts,
            "registered_voters": quarantine.registered_voters,
            "verdict": quarantine.verdict,
            "material": quarantine.material,
            "lists_at_stake": at_stake_lists(certainty, now),
            "witness": None if m is None else m.witness,
            "statement": quarantine_statement(quarantine),
        },
    }


def quarantine_statement(stakes: QuarantineStakes) -> str:
    """One sentence: what the quarantine holds and whether it could change who passes or any seat."""
    m = stakes.materiality
    if m is None:
        return "Nothing is quarantined."
    what = f"{stakes.entries:,} quarantined row(s) or file(s)"
    if m.at_stake_voters is None:
        return (
            f"{what}, {stakes.unnamed:,} naming no declared precinct: whether the quarantine could "
            "change who passes the threshold or any seat cannot be bounded, so it is not ruled out."
        )
    what += f" naming {stakes.precincts:,} precinct(s) of {stakes.registered_voters:,} registered voters"
    if m.verdict == "cannot_matter":
        return f"{what}: the quarantine cannot change who passes the threshold or any seat."
    if m.verdict == "matters":
        return f"{what}: once corrected, they could change the seat table, e.g. {m.witness}."
    return f"{what}: that they could change who passes the threshold or a seat is not ruled out."
