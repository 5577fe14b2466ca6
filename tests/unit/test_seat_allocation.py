"""Seat allocation: the official results 2004-2023 and hand-worked cases for every rule and refusal."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest

from pipelines.core.errors import InputError, RulesCannotDecide
from pipelines.rules.rule_profiles import Guarantee, RuleProfile, load_profile
from pipelines.rules.seat_allocation import Allocation, ListVotes, allocate

REPO = Path(__file__).parents[2]
SHIPPED = REPO / "schemas" / "history"
REFERENCE = REPO.parent / "shared" / "reference"
SOURCES = [SHIPPED, *([REFERENCE] if REFERENCE.is_dir() else [])]
HISTORY_FILES = ("kz_mazhilis_results.csv", "kz_mazhilis_elections.csv")


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _official(source: Path) -> list[tuple[str, dict[str, str], list[dict[str, str]]]]:
    results = _read(source / "kz_mazhilis_results.csv")
    return [
        (e["election_id"], e, [r for r in results if r["election_id"] == e["election_id"]])
        for e in _read(source / "kz_mazhilis_elections.csv")
    ]


def _seats(allocation: Allocation) -> dict[str, int]:
    return {row.list_id: row.seats for row in allocation.rows}


def _profile(**changes: object) -> RuleProfile:
    base = RuleProfile("test", 10, "hare", Fraction(7, 100), "valid_list_votes")
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", HISTORY_FILES)
def test_shipped_history_is_a_verbatim_copy_of_the_reference(name: str) -> None:
    for source in SOURCES:
        assert (source / name).read_bytes() == (SHIPPED / name).read_bytes()


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.name)
def test_official_list_seats_2004_to_2023_are_reproduced(source: Path) -> None:
    elections = _official(source)
    assert [e for e, _, _ in elections] == [f"kz-mazhilis-{y}" for y in (2004, 2007, 2012, 2016, 2021, 2023)]
    for election_id, election, results in elections:
        lists = [
            ListVotes(r["party_lineage"], r["party_name"], int(r["votes"]), ballot_order=n)
            for n, r in enumerate(results, start=1)
        ]
        allocation = allocate(
            lists,
            load_profile(election_id),
            against_all=int(election["against_all"] or 0),
            invalid=int(election["invalid_ballots"]) if election["invalid_ballots"] else None,
            ballots_cast=int(election["ballots_cast"]) if election["ballots_cast"] else None,
        )
        assert _seats(allocation) == {r["party_lineage"]: int(r["official_list_seats"]) for r in results}
        assert allocation.total_seats == int(election["list_seats"])
        assert allocation.base_votes == int(election["valid_list_votes"]) + int(election["against_all"] or 0)
        # the published percentages are shares of the threshold base, rounded to 2 decimals
        assert [row.share_pct for row in allocation.rows] == [r["official_pct"] for r in results]


def _kz2004() -> list[ListVotes]:
    rows = [r for r in _read(SHIPPED / "kz_mazhilis_results.csv") if r["election_id"] == "kz-mazhilis-2004"]
    return [ListVotes(r["party_lineage"], r["party_name"], int(r["votes"]), n) for n, r in enumerate(rows, 1)]


def test_2004_threshold_base_decides_aist() -> None:
    # AIST: 7.07% of valid votes (passes, 1 seat); 6.87% of 4,893,204 ballots cast (would fail)
    profile = load_profile("kz-mazhilis-2004")
    assert _seats(allocate(_kz2004(), profile))["aist"] == 1
    by_ballots = allocate(_kz2004(), replace(profile, threshold_base="ballots_cast"), ballots_cast=4893204)
    aist = next(r for r in by_ballots.rows if r.list_id == "aist")
    assert not aist.passed_threshold and aist.seats == 0 and aist.share_pct == "6.87"


def test_2004_by_dhondt_differs_as_the_reference_says() -> None:
    # averages by hand: Otan 2,883,706/1..8 take 8 of the top 10 (8th: 360,463 > AIST 336,177)
    seats = _seats(allocate(_kz2004(), replace(load_profile("kz-mazhilis-2004"), method="dhondt")))
    assert (seats["amanat"], seats["ak_zhol"], seats["asar"], seats["aist"]) == (8, 1, 1, 0)


def test_hare_largest_remainder_worked_by_hand() -> None:
    # A 100,000 B 80,000 C 30,000 D 20,000, 8 seats: quota 28,750; quotients 3.478, 2.783, 1.043, 0.696
    # whole 3+2+1+0 = 6; two remainder seats to B (.783) and D (.696)
    allocation = allocate(_wiki(), _profile(seats=8, threshold=Fraction(0)))
    assert _seats(allocation) == {"A": 3, "B": 3, "C": 1, "D": 1}
    b = allocation.rows[1]
    assert b.quota == 28750 and b.quotient == Fraction(80000, 28750)
    assert b.integer_seats == 2 and b.remainder_seat
    assert b.remainder == Fraction(80000, 28750) - 2


def _wiki() -> list[ListVotes]:
    return [
        ListVotes("A", "A", 100000, 1),
        ListVotes("B", "B", 80000, 2),
        ListVotes("C", "C", 30000, 3),
        ListVotes("D", "D", 20000, 4),
    ]


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("dhondt", {"A": 4, "B": 3, "C": 1, "D": 0}),
        ("sainte-lague", {"A": 3, "B": 3, "C": 1, "D": 1}),
        # Droop quota floor(230,000/9)+1 = 25,556: whole 3+3+1+0, remainder seat to A (.913)
        ("droop", {"A": 4, "B": 3, "C": 1, "D": 0}),
    ],
)
def test_other_methods_worked_by_hand(method: str, expected: dict[str, int]) -> None:
    assert _seats(allocate(_wiki(), _profile(seats=8, threshold=Fraction(0), method=method))) == expected


def test_modified_sainte_lague_tie_goes_to_the_earlier_registered() -> None:
    # 8th seat: A's 100,000/7 equals D's 20,000/1.4 exactly (14,285.71...)
    profile = _profile(seats=8, threshold=Fraction(0), method="modified-sainte-lague")
    allocation = allocate(_wiki(), profile)
    assert _seats(allocation) == {"A": 4, "B": 3, "C": 1, "D": 0}
    assert any("tied" in line and "A (ballot 1)" in line for line in allocation.explanation)
    d_first = [replace(x, ballot_order=5 - (x.ballot_order or 0)) for x in _wiki()]
    assert _seats(allocate(d_first, profile)) == {"A": 3, "B": 3, "C": 1, "D": 1}
    with pytest.raises(RulesCannotDecide, match="lists A, D are tied"):
        allocate(_wiki(), replace(profile, tie_break="refuse"))


def test_equal_remainders_go_to_the_earlier_registered() -> None:
    # three lists of 1 vote, 2 seats: quota 3/2, each quotient 2/3, all remainders equal
    lists = [ListVotes("x", "X", 1, 3), ListVotes("y", "Y", 1, 1), ListVotes("z", "Z", 1, 2)]
    allocation = allocate(lists, _profile(seats=2))
    assert _seats(allocation) == {"x": 0, "y": 1, "z": 1}
    assert [r.list_id for r in allocation.rows] == ["y", "z", "x"]  # ballot order
    assert any("earlier registered" in line for line in allocation.explanation)


def test_undecidable_remainder_tie_is_refused_naming_the_lists() -> None:
    lists = [ListVotes("x", "X", 1, 3), ListVotes("y", "Y", 1, 1), ListVotes("z", "Z", 1, 2)]
    with pytest.raises(RulesCannotDecide, match=r"X \(x\), Y \(y\), Z \(z\)") as info:
        allocate(lists, _profile(seats=2, tie_break="refuse"))
    assert info.value.exit_code == 3
    unordered = [replace(x, ballot_order=None) for x in lists]
    with pytest.raises(RulesCannotDecide, match=r"ballot order .* is not known"):
        allocate(unordered, _profile(seats=2))


def test_tie_that_does_not_change_the_result_is_not_refused() -> None:
    # D'Hondt, 3 seats: C (4) first; then A and B are tied at 3 with 2 seats left: both get one
    lists = [ListVotes("a", "A", 3, None), ListVotes("b", "B", 3, None), ListVotes("c", "C", 4, None)]
    with pytest.raises(RulesCannotDecide, match=r"A \(a\), B \(b\)"):
        allocate(lists, _profile(seats=2, tie_break="refuse", method="dhondt"))
    assert _seats(allocate(lists, _profile(seats=3, tie_break="refuse", method="dhondt"))) == {
        "a": 1,
        "b": 1,
        "c": 1,
    }


def test_a_list_exactly_at_the_threshold_passes() -> None:
    # base 100 ballots cast: 7 votes is exactly 7%
    profile = _profile(threshold_base="ballots_cast")
    at = allocate([ListVotes("a", "A", 90, 1), ListVotes("b", "B", 7, 2)], profile, invalid=3)
    assert at.rows[1].passed_threshold and at.rows[1].share == Fraction(7, 100)
    below = allocate([ListVotes("a", "A", 90, 1), ListVotes("b", "B", 6, 2)], profile, invalid=4)
    assert not below.rows[1].passed_threshold and below.rows[1].seats == 0


def test_against_all_counts_in_the_2023_base() -> None:
    # 86 + 7 + 7 against all = base 100: B has exactly 7% and passes; 8 against all: base 101, B fails
    lists = [ListVotes("a", "A", 86, 1), ListVotes("b", "B", 7, 2)]
    with_against = allocate(
        lists, _profile(threshold_base="valid_list_votes_plus_against_all"), against_all=7
    )
    assert with_against.base_votes == 100 and with_against.rows[1].passed_threshold
    profile = _profile(threshold_base="valid_list_votes_plus_against_all")
    assert not allocate(lists, profile, against_all=8).rows[1].passed_threshold


def test_no_list_passing_is_refused() -> None:
    lists = [ListVotes("a", "A", 10, 1), ListVotes("b", "B", 10, 2), ListVotes("c", "C", 10, 3)]
    with pytest.raises(RulesCannotDecide, match="no list reached the threshold of 50%"):
        allocate(lists, _profile(threshold=Fraction(1, 2)))


def _single_winner() -> list[ListVotes]:
    # 2007 votes: only Nur Otan passes; OSDP is the runner-up at 4.54%
    return [
        ListVotes("nur_otan", "Nur Otan", 5247720, 1),
        ListVotes("osdp", "OSDP", 269310, 2),
        ListVotes("ak_zhol", "Ak Zhol", 183346, 3),
        ListVotes("auyl", "Auyl", 89855, 4),
    ]


def test_2007_without_guarantee_one_list_takes_all() -> None:
    assert _seats(allocate(_single_winner(), _profile(seats=98)))["nur_otan"] == 98


def test_guarantee_proportional_2007_hypothetical_93_5() -> None:
    # reference README: plain Hare LR between the two gives 93 and 5
    allocation = allocate(_single_winner(), _profile(seats=98, guarantee=Guarantee("proportional")))
    assert _seats(allocation) == {"nur_otan": 93, "osdp": 5, "ak_zhol": 0, "auyl": 0}
    osdp = allocation.rows[1]
    assert osdp.admitted_by_guarantee and not osdp.passed_threshold
    assert osdp.quota == Fraction(5247720 + 269310, 98)
    assert allocation.guarantee_applied == "proportional"


def test_guarantee_correction_index_2007_hypothetical_integer_part_3() -> None:
    # OSDP quotient 269,310 x 98 / 5,517,030 = 4.78; x 0.7 = 3.35: integer part 3, the rest to Nur Otan
    guarantee = Guarantee("correction_index", Fraction(7, 10), 2)
    allocation = allocate(_single_winner(), _profile(seats=98, guarantee=guarantee))
    osdp = allocation.rows[1]
    assert osdp.integer_seats == 3 and osdp.seats == 3 and osdp.admitted_by_guarantee
    assert osdp.quotient == Fraction(269310 * 98, 5517030) * Fraction(7, 10)
    assert allocation.rows[0].seats == 95


def test_guarantee_correction_index_minimum_seats() -> None:
    # quota (900 + 30) / 10 = 93; runner-up quotient 30/93 x 0.7 = 0.23 -> 0, raised to the minimum 2
    lists = [ListVotes("p", "P", 900, 1), ListVotes("r", "R", 30, 2), ListVotes("s", "S", 20, 3)]
    guarantee = Guarantee("correction_index", Fraction(7, 10), 2)
    assert _seats(allocate(lists, _profile(guarantee=guarantee))) == {"p": 8, "r": 2, "s": 0}


def test_guarantee_runner_up_tie_by_ballot_order_or_refused() -> None:
    lists = [ListVotes("p", "P", 900, 1), ListVotes("r", "R", 30, 3), ListVotes("s", "S", 30, 2)]
    profile = _profile(guarantee=Guarantee("proportional"))
    allocation = allocate(lists, profile)
    assert [r.list_id for r in allocation.rows if r.admitted_by_guarantee] == ["s"]
    with pytest.raises(RulesCannotDecide, match=r"runner-up.*R \(r\), S \(s\)"):
        allocate(lists, replace(profile, tie_break="refuse"))


def test_guarantee_needs_a_runner_up_with_votes() -> None:
    lists = [ListVotes("p", "P", 900, 1), ListVotes("r", "R", 0, 2)]
    allocation = allocate(lists, _profile(guarantee=Guarantee("proportional")))
    assert _seats(allocation) == {"p": 10, "r": 0} and allocation.guarantee_applied is None


def _short_lists(**a: int | None) -> list[ListVotes]:
    # Hare quota 24 for 10 seats: A 4.17, B 3.75, C 2.08 -> A 4, B 4 (remainder seat), C 2
    return [
        ListVotes("a", "A", 100, 1, candidates=a.get("a")),
        ListVotes("b", "B", 90, 2, candidates=a.get("b")),
        ListVotes("c", "C", 50, 3, candidates=a.get("c")),
    ]


def test_short_list_leaves_seats_vacant_and_flagged() -> None:
    allocation = allocate(_short_lists(a=2), _profile())
    a = allocation.rows[0]
    assert (a.seats, a.vacant_seats, a.filled_seats) == (4, 2, 2)
    assert sum(r.seats for r in allocation.rows) == 10
    assert any("without a member" in line for line in allocation.explanation)


def test_vacant_seats_redistributed_to_the_next_in_line() -> None:
    # A gives up 2; next in line: C (unused remainder 0.083), then B (3.75 - 4 = -0.25) -> B 5, C 3
    allocation = allocate(_short_lists(a=2), _profile(vacant_seats="redistribute"))
    assert _seats(allocation) == {"a": 2, "b": 5, "c": 3}
    assert [r.redistributed_seats for r in allocation.rows] == [-2, 1, 1]
    assert all(r.vacant_seats == 0 for r in allocation.rows)


def test_vacant_seats_stay_when_no_list_has_candidates_left() -> None:
    allocation = allocate(_short_lists(a=2, b=4, c=2), _profile(vacant_seats="redistribute"))
    assert [(r.seats - r.vacant_seats, r.vacant_seats) for r in allocation.rows] == [(2, 2), (4, 0), (2, 0)]
    assert sum(r.seats for r in allocation.rows) == 10


@pytest.mark.parametrize(
    ("lists", "kwargs", "fragment"),
    [
        ([], {}, "no party lists"),
        ([ListVotes("a", "A", 1), ListVotes("a", "A2", 2)], {}, "appears twice"),
        ([ListVotes("a", "A", -1)], {}, "votes must be a whole number"),
        ([ListVotes("a", "A", 1, 1), ListVotes("b", "B", 1, 1)], {}, "share a ballot order"),
        ([ListVotes("a", "A", 10)], {"against_all": -1}, "against_all"),
        ([ListVotes("a", "A", 10)], {"seats": 0}, "seats"),
        ([ListVotes("a", "A", 10)], {"invalid": 1, "ballots_cast": 12}, "differ"),
        ([ListVotes("a", "A", 10)], {"ballots_cast": 9}, "fewer than"),
    ],
)
def test_bad_input_is_an_input_error(lists: list[ListVotes], kwargs: dict[str, int], fragment: str) -> None:
    with pytest.raises(InputError, match=fragment) as info:
        allocate(lists, _profile(), **kwargs)
    assert info.value.exit_code == 2


def test_ballots_cast_base_needs_ballots_or_invalid() -> None:
    with pytest.raises(InputError, match="ballots cast"):
        allocate([ListVotes("a", "A", 10)], _profile(threshold_base="ballots_cast"))


def test_seats_argument_overrides_the_profile() -> None:
    allocation = allocate(_wiki(), _profile(threshold=Fraction(0)), seats=8)
    assert allocation.total_seats == 8 and sum(_seats(allocation).values()) == 8


def test_records_are_json_safe_exact_and_deterministic() -> None:
    first = allocate(_wiki(), _profile(seats=8, threshold=Fraction(0))).to_records()
    again = allocate(list(reversed(_wiki())), _profile(seats=8, threshold=Fraction(0))).to_records()
    assert json.dumps(first) == json.dumps(again)
    b = first[1]
    required = "list_id name ballot_order votes share share_pct passed_threshold admitted_by_guarantee quota"
    required += " quotient integer_seats remainder remainder_seat seats vacant_seats"
    assert set(required.split()) <= set(b)
    assert Fraction(str(b["share"])) == Fraction(80000, 230000)
    assert b["share_pct"] == "34.78"
    assert Fraction(str(b["quotient"])) == Fraction(80000, 28750)
