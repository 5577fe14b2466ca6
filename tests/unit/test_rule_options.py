"""Profile options from real laws, each on a vector from a real election or the law's own text.

- `guarantee.minimum_lists`: lists admitted up to a number (Armenia's Electoral Code: at least three);
- `represented_share`: Russia, State Duma law No. 51-FZ of 18 May 2005, art. 82 (7)-(8): the lists over
  7% must together hold more than 60% of the voters who took part, else the next lists are admitted.
"""

from __future__ import annotations

from typing import Any

import pytest

from pipelines.core.errors import InputError
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
