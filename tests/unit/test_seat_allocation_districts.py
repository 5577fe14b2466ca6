"""Mixed system: plurality districts beside the list seats, and the combined seat table."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.core.errors import InputError, RulesCannotDecide
from pipelines.rules.rule_profiles import load_profile
from pipelines.rules.seat_allocation import (
    DistrictVote,
    ListVotes,
    allocate,
    combine_with_districts,
    district_winners,
    read_districts_csv,
)

LISTS_2023 = [
    ListVotes("amanat", "Amanat", 3431510, 1),
    ListVotes("auyl", "Auyl", 693938, 2),
    ListVotes("respublica", "Respublica", 547154, 3),
    ListVotes("ak_zhol", "Ak Zhol", 535139, 4),
    ListVotes("peoples_party", "People's Party of Kazakhstan", 432920, 5),
    ListVotes("osdp", "OSDP", 331058, 6),
    ListVotes("baytaq", "Baytaq", 146431, 7),
]


def _districts(winners: list[str]) -> list[DistrictVote]:
    votes = []
    for n, party in enumerate(winners, start=1):
        votes.append(DistrictVote(f"D{n:02d}", f"winner {n}", party, 1000 + n))
        votes.append(DistrictVote(f"D{n:02d}", f"second {n}", "auyl", 500))
    return votes


def test_plurality_winner_and_margin() -> None:
    votes = [
        DistrictVote("1", "Ann", "amanat", 300),
        DistrictVote("1", "Bek", "auyl", 450),
        DistrictVote("1", "Cem", "", 100),
        DistrictVote("2", "Dana", "", 80),
    ]
    winners = district_winners(votes)
    assert [(w.district, w.candidate, w.margin) for w in winners] == [("1", "Bek", 150), ("2", "Dana", None)]


def test_district_tie_is_refused() -> None:
    votes = [DistrictVote("7", "Ann", "amanat", 300), DistrictVote("7", "Bek", "auyl", 300)]
    with pytest.raises(RulesCannotDecide, match="district '7': candidates Ann, Bek are tied"):
        district_winners(votes)


def test_2023_combined_table_shows_list_and_district_seats() -> None:
    profile = load_profile("kz-mazhilis-2023")
    allocation = allocate(LISTS_2023, profile, against_all=248291)
    # 22 districts to Amanat, 1 to People's Party by name, 6 self-nominated
    winners = ["amanat"] * 22 + ["People's Party of Kazakhstan"] + [""] * 6
    table = combine_with_districts(allocation, _districts(winners), expected_districts=profile.districts)
    by_party = {r.party: (r.list_seats, r.district_seats, r.total_seats) for r in table.rows}
    assert by_party["amanat"] == (40, 22, 62)
    assert by_party["peoples_party"] == (5, 1, 6)
    assert by_party["independent"] == (0, 6, 6)
    assert sum(r.total_seats for r in table.rows) == 69 + 29
    assert table.rows[-1].party == "independent"


def test_wrong_number_of_districts_is_bad_input() -> None:
    allocation = allocate(LISTS_2023, load_profile("kz-mazhilis-2023"), against_all=248291)
    with pytest.raises(InputError, match="29 single-member districts, the results cover 2"):
        combine_with_districts(allocation, _districts(["amanat", "auyl"]), expected_districts=29)


def test_records_as_mappings_and_unknown_party() -> None:
    allocation = allocate(LISTS_2023, load_profile("kz-mazhilis-2023"), against_all=248291)
    records = [
        {"district": "1", "candidate": "A", "party": "Green Party", "votes": 10},
        {"district": "1", "candidate": "B", "party": "amanat", "votes": 9},
    ]
    table = combine_with_districts(allocation, records)
    assert ("Green Party", 0, 1) in [(r.party, r.list_seats, r.district_seats) for r in table.rows]
    with pytest.raises(InputError, match="votes must be a whole number"):
        combine_with_districts(allocation, [{"district": "1", "candidate": "A", "party": "", "votes": "x"}])


def test_districts_csv(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("district,candidate,party,votes\n1,Ann,amanat,5\n1,Bek,,7\n", encoding="utf-8")
    assert [w.candidate for w in district_winners(read_districts_csv(path))] == ["Bek"]
    path.write_text("district,candidate,party,votes\n1,Ann,amanat,5\n1,Ann,auyl,7\n", encoding="utf-8")
    with pytest.raises(InputError, match="appears twice") as info:
        read_districts_csv(path)
    assert info.value.location.row == 3
    path.write_text("district,candidate,votes\n1,Ann,5\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing column 'party'"):
        read_districts_csv(path)
