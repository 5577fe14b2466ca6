"""Mixed systems: single-member districts won by plurality, combined with the list seats into one table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipelines.core.errors import InputError, RulesCannotDecide
from pipelines.rules.seat_allocation.csv_input import csv_rows, whole_number
from pipelines.rules.seat_allocation.model import Allocation, Record

INDEPENDENT = "independent"
_INDEPENDENT_SPELLINGS = {"", "independent", "self-nominated", "self_nominated", "none"}


@dataclass(frozen=True)
class DistrictVote:
    district: str
    candidate: str
    party: str  # a list id or list name, or empty / 'independent' for a self-nominated candidate
    votes: int


@dataclass(frozen=True)
class DistrictWinner:
    district: str
    candidate: str
    party: str
    votes: int
    margin: int | None  # over the runner-up; None when unopposed


@dataclass(frozen=True)
class CombinedRow:
    party: str  # list id, a party not on the national list, or 'independent'
    name: str
    list_seats: int
    district_seats: int
    vacant_list_seats: int

    @property
    def total_seats(self) -> int:
        return self.list_seats + self.district_seats

    def to_record(self) -> Record:
        return {
            "party": self.party,
            "name": self.name,
            "list_seats": self.list_seats,
            "district_seats": self.district_seats,
            "total_seats": self.total_seats,
            "vacant_list_seats": self.vacant_list_seats,
        }


@dataclass(frozen=True)
class CombinedSeatTable:
    profile_id: str
    list_seats: int
    district_seats: int
    rows: tuple[CombinedRow, ...]
    winners: tuple[DistrictWinner, ...]
    explanation: tuple[str, ...]

    def to_records(self) -> list[Record]:
        return [row.to_record() for row in self.rows]

    def to_dict(self) -> dict[str, object]:
        return {
            "profile_id": self.profile_id,
            "list_seats": self.list_seats,
            "district_seats": self.district_seats,
            "total_seats": self.list_seats + self.district_seats,
            "rows": self.to_records(),
            "district_winners": [
                {
                    "district": w.district,
                    "candidate": w.candidate,
                    "party": w.party,
                    "votes": w.votes,
                    "margin": w.margin,
                }
                for w in self.winners
            ],
            "explanation": list(self.explanation),
        }


def read_districts_csv(path: Path) -> list[DistrictVote]:
    """Columns `district,candidate,party,votes`; an empty party means a self-nominated candidate."""
    file = str(path)
    votes: list[DistrictVote] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in csv_rows(path, ("district", "candidate", "party", "votes"), ()):
        for column in ("district", "candidate"):
            if not row[column]:
                raise InputError(f"{column} must not be empty", file=file, row=line, column=column)
        key = (row["district"], row["candidate"])
        if key in seen:
            raise InputError(
                f"candidate appears twice in district {key[0]!r} (first on row {seen[key]})",
                file=file,
                row=line,
                column="candidate",
                value=key[1],
            )
        seen[key] = line
        count = whole_number(row["votes"], file=file, row=line, column="votes", minimum=0)
        votes.append(DistrictVote(row["district"], row["candidate"], row["party"], count))
    if not votes:
        raise InputError("no district rows after the header", file=file, row=2)
    return votes


def _as_vote(item: DistrictVote | Mapping[str, object], n: int) -> DistrictVote:
    if isinstance(item, DistrictVote):
        vote = item
    else:
        raw = item.get("votes")
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise InputError(f"district record {n}: votes must be a whole number", column="votes", value=raw)
        vote = DistrictVote(
            str(item.get("district", "")), str(item.get("candidate", "")), str(item.get("party") or ""), raw
        )
    if not vote.district or not vote.candidate:
        raise InputError(f"district record {n}: district and candidate must not be empty", value=vote)
    if vote.votes < 0:
        raise InputError(f"district record {n}: votes must be >= 0", column="votes", value=vote.votes)
    return vote


def district_winners(votes: Sequence[DistrictVote | Mapping[str, object]]) -> tuple[DistrictWinner, ...]:
    """The plurality winner of each district, in district order; a tie for first place is refused."""
    by_district: dict[str, list[DistrictVote]] = {}
    for n, item in enumerate(votes, start=1):
        vote = _as_vote(item, n)
        by_district.setdefault(vote.district, []).append(vote)
    winners = []
    for district in sorted(by_district):
        ranked = sorted(by_district[district], key=lambda v: -v.votes)
        first = ranked[0]
        tied = [v.candidate for v in ranked if v.votes == first.votes]
        if len(tied) > 1:
            raise RulesCannotDecide(
                f"district {district!r}: candidates {', '.join(sorted(tied))} are tied for first place with "
                f"{first.votes:,} votes; plurality cannot decide (a repeat vote or lot is for the commission)"
            )
        margin = first.votes - ranked[1].votes if len(ranked) > 1 else None
        winners.append(DistrictWinner(district, first.candidate, first.party, first.votes, margin))
    return tuple(winners)


def combine_with_districts(
    allocation: Allocation,
    districts: Path | Sequence[DistrictVote | Mapping[str, object]],
    *,
    expected_districts: int | None = None,
) -> CombinedSeatTable:
    """List seats plus district seats per party; a district party matches a list by id or by name."""
    votes = read_districts_csv(districts) if isinstance(districts, Path) else districts
    winners = district_winners(votes)
    if expected_districts is not None and len(winners) != expected_districts:
        raise InputError(
            f"the rules have {expected_districts} single-member districts, the results cover {len(winners)}",
            file=str(districts) if isinstance(districts, Path) else None,
            column="district",
            rule="districts",
            value=len(winners),
        )
    by_key = {row.list_id: row.list_id for row in allocation.rows}
    by_key.update({row.name.casefold(): row.list_id for row in allocation.rows})
    district_seats: dict[str, int] = {}
    explanation = [f"{len(winners)} single-member district(s), each won by the candidate with most votes:"]
    for w in winners:
        if w.party.strip().casefold() in _INDEPENDENT_SPELLINGS:
            key = INDEPENDENT
        else:
            key = by_key.get(w.party) or by_key.get(w.party.casefold(), w.party)
        district_seats[key] = district_seats.get(key, 0) + 1
        lead = "unopposed" if w.margin is None else f"ahead by {w.margin:,}"
        explanation.append(f"District {w.district}: {w.candidate} ({key}), {w.votes:,} votes, {lead}.")
    rows = [
        CombinedRow(r.list_id, r.name, r.seats, district_seats.pop(r.list_id, 0), r.vacant_seats)
        for r in allocation.rows
    ]
    others = sorted(district_seats, key=lambda k: (k == INDEPENDENT, k))
    rows.extend(CombinedRow(k, k, 0, district_seats[k], 0) for k in others)
    return CombinedSeatTable(
        profile_id=allocation.profile_id,
        list_seats=allocation.total_seats,
        district_seats=len(winners),
        rows=tuple(rows),
        winners=winners,
        explanation=tuple(explanation),
    )
