"""Profile options from real laws, each on a vector from a real election or the law's own text.

- `guarantee.minimum_lists`: lists admitted up to a number (Armenia's Electoral Code: at least three);
- `represented_share`: Russia, State Duma law No. 51-FZ of 18 May 2005, art. 82 (7)-(8): the lists over
  7% must together hold more than 60% of the voters who took part, else the next lists are admitted;
- `consolation_seats`: the same law as amended by No. 94-FZ of 12 May 2009: 5% to below 6% one seat,
  6% to below 7% two, before the lists over 7% share the rest.
"""

from __future__ import annotations

from typing import Any

import pytest

from pipelines.core.errors import InputError, RulesCannotDecide
from pipelines.rules.rule_profiles import RuleProfile, parse_profile, profile_to_dict
from pipelines.rules.seat_allocation import Allocation, ListVotes, allocate

# Russia, State Duma, 2 December 2007 (Central Election Commission, as in psephos.adam-carr.net):
# 69,537,065 voters took part, 759,929 invalid ballots; official seats 315 / 57 / 40 / 38.
DUMA_2007 = {
    "united_russia": 44_714_241,
    "kprf": 8_046_886,
    "ldpr": 5_660_823,
    "fair_russia": 5_383_639,
    "agrarian": 1_600_234,
    "yabloko": 1_108_985,
    "civilian_power": 733_604,
    "sps": 669_444,
    "patriots": 615_417,
    "social_justice": 154_083,
    "democratic_party": 89_780,
}
DUMA_2007_CAST, DUMA_2007_INVALID = 69_537_065, 759_929

# Kazakhstan, Mazhilis 2007 (schemas/history): Nur Otan alone passed 7%.
MAZHILIS_2007 = {
    "nur_otan": 5_247_720,
    "osdp": 269_310,
    "ak_zhol": 183_346,
    "auyl": 89_855,
    "peoples_party": 76_799,
    "patriots": 46_436,
    "rukhaniyat": 22_159,
}


# Russia, State Duma, 4 December 2011 (CEC protocol as in russiavotes.org): 65,656,526 ballots cast,
# 1,033,464 invalid, 64,623,062 valid (Patriots of Russia 639,119, which the valid total implies; one
# summary prints 639,118). Official seats 238 / 92 / 64 / 56; no list fell between 5% and 7%.
DUMA_2011 = {
    "united_russia": 32_379_135,
    "kprf": 12_599_507,
    "fair_russia": 8_695_522,
    "ldpr": 7_664_570,
    "yabloko": 2_252_403,
    "patriots": 639_119,
    "right_cause": 392_806,
}
DUMA_2011_CAST, DUMA_2011_INVALID = 65_656_526, 1_033_464

CONSOLATION_2009: dict[str, Any] = {
    "consolation_seats": [
        {"from_percent": "5", "below_percent": "6", "seats": 1},
        {"from_percent": "6", "below_percent": "7", "seats": 2},
    ]
}


def _lists(votes: dict[str, int]) -> list[ListVotes]:
    return [ListVotes(i, i, v, ballot_order=n) for n, (i, v) in enumerate(votes.items(), start=1)]


def _profile(**fields: Any) -> RuleProfile:
    data = {
        "profile_id": "test",
        "seats": 450,
        "method": "hare",
        "threshold_percent": "7",
        "threshold_base": "ballots_cast",
    }
    return parse_profile(data | fields, file="test.yaml")


def _seats(allocation: Allocation) -> dict[str, int]:
    return {r.list_id: r.seats for r in allocation.rows if r.seats}


DUMA_2005_LAW: dict[str, Any] = {
    "represented_share": {"percent": "60", "comparison": "more_than"},
    "guarantee": {"variant": "proportional"},
}


def test_duma_2007_gives_the_official_seats_under_the_2005_law() -> None:
    allocation = allocate(
        _lists(DUMA_2007),
        _profile(**DUMA_2005_LAW),
        invalid=DUMA_2007_INVALID,
        ballots_cast=DUMA_2007_CAST,
    )
    assert _seats(allocation) == {"united_russia": 315, "kprf": 57, "ldpr": 40, "fair_russia": 38}
    assert allocation.guarantee_applied is None
    assert "The lists admitted hold 91.76% of the threshold base" in "\n".join(allocation.explanation)


def test_lists_are_admitted_in_order_of_votes_until_more_than_the_share() -> None:
    # Art. 82 (8), on a vector from its text: the two lists over 7% hold 50% of the 1,000 voters who
    # took part; the next (65, then 50) are admitted until the lists admitted hold more than 60%.
    votes = {"a": 300, "b": 200, "c": 65, "d": 50, "e": 40, "f": 35}
    allocation = allocate(_lists(votes), _profile(seats=100, **DUMA_2005_LAW), ballots_cast=1000)
    admitted = [r.list_id for r in allocation.rows if r.admitted]
    assert admitted == ["a", "b", "c", "d"]
    assert [r.list_id for r in allocation.rows if r.admitted_by_guarantee] == ["c", "d"]
    assert allocation.guarantee_applied == "represented_share"
    assert sum(_seats(allocation).values()) == 100
    text = "\n".join(allocation.explanation)
    assert "c (65 votes) is admitted: the lists admitted now hold 56.50%." in text
    assert "d (50 votes) is admitted: the lists admitted now hold 61.50%." in text


def test_more_than_needs_more_and_at_least_is_content_with_exactly() -> None:
    votes = {"a": 400, "b": 200, "c": 60, "d": 50}  # a and b hold exactly 60% of 1,000
    strict = allocate(_lists(votes), _profile(seats=10, **DUMA_2005_LAW), ballots_cast=1000)
    assert [r.list_id for r in strict.rows if r.admitted] == ["a", "b", "c"]
    at_least = _profile(seats=10, represented_share={"percent": "60"})
    assert [r.list_id for r in allocate(_lists(votes), at_least, ballots_cast=1000).rows if r.admitted] == [
        "a",
        "b",
    ]


def test_every_list_admitted_and_still_short_is_said() -> None:
    allocation = allocate(_lists({"a": 300, "b": 10}), _profile(seats=10, **DUMA_2005_LAW), ballots_cast=1000)
    assert [r.list_id for r in allocation.rows if r.admitted] == ["a", "b"]
    assert "Every list with votes is admitted and the share is still not reached." in allocation.explanation


def test_minimum_of_three_lists_admits_the_next_two_by_votes() -> None:
    # Mazhilis 2007's votes under a guarantee of three lists: OSDP and Ak Zhol join Nur Otan.
    profile = _profile(
        seats=98, threshold_base="valid_list_votes", guarantee={"variant": "proportional", "minimum_lists": 3}
    )
    allocation = allocate(_lists(MAZHILIS_2007), profile)
    assert [r.list_id for r in allocation.rows if r.admitted_by_guarantee] == ["osdp", "ak_zhol"]
    assert _seats(allocation) == {"nur_otan": 90, "osdp": 5, "ak_zhol": 3}
    assert profile_to_dict(profile)["guarantee"] == {"variant": "proportional", "minimum_lists": 3}


@pytest.mark.parametrize(
    ("fields", "column", "message"),
    [
        (
            {"guarantee": {"variant": "none", "minimum_lists": 3}},
            "guarantee.minimum_lists",
            "not variant none",
        ),
        (
            {
                "guarantee": {
                    "variant": "correction_index",
                    "index": "7/10",
                    "minimum_seats": 2,
                    "minimum_lists": 3,
                }
            },
            "guarantee.minimum_lists",
            "admits one runner-up",
        ),
        (
            {"guarantee": {"variant": "proportional", "minimum_lists": 1}},
            "guarantee.minimum_lists",
            "minimum of 2",
        ),
        ({"represented_share": {"percent": "0"}}, "represented_share.percent", "above 0"),
        ({"represented_share": {"percent": "100.5"}}, "represented_share.percent", "at most 100"),
        (
            {"represented_share": {"percent": "100", "comparison": "more_than"}},
            "represented_share.percent",
            "more than 100%",
        ),
        ({"represented_share": {"percent": 0.6}}, "represented_share.percent", "quotes"),
        (
            {"represented_share": {"percent": "60", "comparison": "over"}},
            "represented_share.comparison",
            "is not one of",
        ),
    ],
)
def test_options_that_contradict_are_refused_naming_file_field_and_value(
    fields: dict[str, Any], column: str, message: str
) -> None:
    with pytest.raises(InputError, match=message) as info:
        _profile(**fields)
    assert info.value.location.file == "test.yaml"
    assert info.value.location.column == column


def test_new_options_round_trip_through_the_canonical_form() -> None:
    profile = _profile(
        represented_share={"percent": "60", "comparison": "more_than"},
        guarantee={"variant": "proportional", "minimum_lists": 2},
    )
    data = profile_to_dict(profile)
    assert data["represented_share"] == {"percent": "60", "comparison": "more_than"}
    assert parse_profile(data) == profile
    assert "represented_share" not in profile_to_dict(_profile())


def test_duma_2011_gives_the_official_seats_with_the_2009_consolation_bands() -> None:
    profile = _profile(**DUMA_2005_LAW, **CONSOLATION_2009)
    allocation = allocate(_lists(DUMA_2011), profile, invalid=DUMA_2011_INVALID, ballots_cast=DUMA_2011_CAST)
    assert _seats(allocation) == {"united_russia": 238, "kprf": 92, "fair_russia": 64, "ldpr": 56}
    assert not any("consolation" in line for line in allocation.explanation)


def test_consolation_seats_are_taken_before_the_quota_from_the_laws_text() -> None:
    # Art. 82 as amended in 2009, on 1,000 voters who took part: c (6.5%) gets two seats, d (5.5%) one,
    # e (4.9%) none; a and b share the other 447 by the Hare quota.
    votes = {"a": 500, "b": 250, "c": 65, "d": 55, "e": 49, "f": 40}
    allocation = allocate(_lists(votes), _profile(**CONSOLATION_2009), ballots_cast=1000)
    assert _seats(allocation) == {"a": 298, "b": 149, "c": 2, "d": 1}
    rows = {r.list_id: r for r in allocation.rows}
    assert (rows["c"].passed_threshold, rows["c"].integer_seats, rows["c"].quota) == (False, 2, None)
    text = "\n".join(allocation.explanation)
    assert "c: 6.50% lies at or above 6% and below 7%: 2 consolation seat(s)" in text
    assert "447 seat(s) remain for the lists admitted." in text
    # the lower bound is inclusive, the upper exclusive: exactly 5% gets one seat, exactly 7% passes
    edges = allocate(_lists({"a": 880, "b": 50, "c": 70}), _profile(**CONSOLATION_2009), ballots_cast=1000)
    assert _seats(edges) == {"a": 416, "b": 1, "c": 33}


def test_a_list_admitted_by_the_represented_share_takes_no_consolation() -> None:
    votes = {"a": 400, "b": 150, "c": 65, "d": 55}  # a + b hold 55%: c is admitted, d consoled
    allocation = allocate(_lists(votes), _profile(**DUMA_2005_LAW, **CONSOLATION_2009), ballots_cast=1000)
    rows = {r.list_id: r for r in allocation.rows}
    assert rows["c"].admitted_by_guarantee and rows["c"].seats > 2
    assert rows["d"].seats == 1 and not rows["d"].admitted


def test_consolation_seats_of_a_short_list_stay_vacant_or_move() -> None:
    lists = [
        ListVotes("a", "a", 900, 1),
        ListVotes("b", "b", 65, 2, candidates=1),
        ListVotes("c", "c", 35, 3),
    ]
    vacant = allocate(lists, _profile(seats=10, **CONSOLATION_2009), ballots_cast=1000)
    assert [(r.list_id, r.seats, r.vacant_seats) for r in vacant.rows if r.seats] == [
        ("a", 8, 0),
        ("b", 2, 1),
    ]
    moved = allocate(
        lists, _profile(seats=10, vacant_seats="redistribute", **CONSOLATION_2009), ballots_cast=1000
    )
    assert [(r.list_id, r.seats, r.redistributed_seats) for r in moved.rows if r.seats] == [
        ("a", 9, 1),
        ("b", 1, -1),
    ]


def test_consolation_seats_that_leave_no_seat_are_refused() -> None:
    votes = {"a": 800, "b": 65, "c": 65, "d": 60}
    with pytest.raises(RulesCannotDecide, match=r"consolation seats \(6\) leave none of the 6 seats"):
        allocate(_lists(votes), _profile(seats=6, **CONSOLATION_2009), ballots_cast=1000)


@pytest.mark.parametrize(
    ("bands", "column", "message"),
    [
        (
            [{"from_percent": "6", "below_percent": "8", "seats": 2}],
            "consolation_seats[0].below_percent",
            "must lie below the threshold",
        ),
        (
            [{"from_percent": "6", "below_percent": "5", "seats": 1}],
            "consolation_seats[0].below_percent",
            "from_percent must be below below_percent",
        ),
        (
            [
                {"from_percent": "5", "below_percent": "6.5", "seats": 1},
                {"from_percent": "6", "below_percent": "7", "seats": 2},
            ],
            "consolation_seats[1].from_percent",
            "overlaps consolation_seats\\[0\\]",
        ),
        (
            [{"from_percent": "5", "below_percent": "6", "seats": 450}],
            "consolation_seats[0].seats",
            "fewer than seats",
        ),
        ([{"from_percent": "5", "below_percent": "6", "seats": 0}], "consolation_seats.0.seats", "minimum"),
        (
            [{"from_percent": "5", "below_percent": 6.5, "seats": 1}],
            "consolation_seats.0.below_percent",
            "quotes",
        ),
    ],
)
def test_consolation_bands_that_contradict_the_threshold_or_each_other_are_refused(
    bands: list[dict[str, Any]], column: str, message: str
) -> None:
    with pytest.raises(InputError, match=message) as info:
        _profile(consolation_seats=bands)
    assert (info.value.location.file, info.value.location.column) == ("test.yaml", column)


def test_consolation_round_trips_through_the_canonical_form() -> None:
    profile = _profile(**CONSOLATION_2009)
    data = profile_to_dict(profile)
    assert data["consolation_seats"] == CONSOLATION_2009["consolation_seats"]
    assert parse_profile(data) == profile
