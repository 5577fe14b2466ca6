"""A rule registered by a test is usable from a profile file: nothing in the engine or the schema changes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from pipelines.core.errors import InputError
from pipelines.rules import registry
from pipelines.rules.admission import MinimumAdmittedLists
from pipelines.rules.apportionment import LargestRemainder
from pipelines.rules.rule_profiles import load_profile, parse_profile, profile_to_dict
from pipelines.rules.seat_allocation import ListVotes, allocate

LISTS = [
    ListVotes("a", "A", 47000, 1),
    ListVotes("b", "B", 16000, 2),
    ListVotes("c", "C", 15800, 3),
    ListVotes("d", "D", 12000, 4),
    ListVotes("e", "E", 6100, 5),
    ListVotes("f", "F", 3100, 6),
]


@dataclass(frozen=True)
class ImperialiQuota:
    """votes / (seats + 2): a quota the project does not ship."""

    label: str = "Imperiali"

    def votes_per_seat(self, total_votes: int, seats: int) -> Fraction:
        return Fraction(total_votes, seats + 2)


@pytest.fixture
def imperiali() -> Iterator[str]:
    registry.METHODS.register("toy-imperiali", LargestRemainder(ImperialiQuota()))
    try:
        yield "toy-imperiali"
    finally:
        registry.METHODS.unregister("toy-imperiali")


@pytest.fixture
def three_lists() -> Iterator[str]:
    registry.GUARANTEES.register(
        "toy-three-lists",
        lambda index, minimum_seats, minimum_lists: MinimumAdmittedLists("toy-three-lists", 3),
    )
    try:
        yield "toy-three-lists"
    finally:
        registry.GUARANTEES.unregister("toy-three-lists")


def _profile_file(tmp_path: Path, **fields: object) -> Path:
    data = {
        "profile_id": "toy",
        "seats": 10,
        "method": "hare",
        "threshold_percent": "7",
        "threshold_base": "valid_list_votes",
    }
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(data | fields), encoding="utf-8")
    return path


def test_a_registered_method_is_usable_from_a_profile_file(tmp_path: Path, imperiali: str) -> None:
    # no threshold: with it the four passing lists would get 11 whole Imperiali quotas, which is refused
    profile = load_profile(_profile_file(tmp_path, method=imperiali, threshold_percent="0"))
    allocation = allocate(LISTS, profile)
    # quota 100,000 / 12 = 8,333.33: whole 5,1,1,1,0,0; the remainders of B (.92) and C (.90) take two seats
    assert {r.list_id: r.seats for r in allocation.rows} == {"a": 5, "b": 2, "c": 2, "d": 1, "e": 0, "f": 0}
    assert allocation.method == imperiali
    assert allocation.explanation[0] == "Rules toy: 10 list seats by the toy-imperiali method."
    assert any(line.startswith("Imperiali quota: 100,000 votes") for line in allocation.explanation)
    assert parse_profile(profile_to_dict(profile)) == profile


def test_a_registered_admission_rule_is_usable_from_a_profile_file(tmp_path: Path, three_lists: str) -> None:
    path = _profile_file(tmp_path, threshold_percent="40", guarantee={"variant": three_lists})
    allocation = allocate(LISTS, load_profile(path))
    assert [r.list_id for r in allocation.rows if r.admitted_by_guarantee] == ["b", "c"]
    assert allocation.guarantee_applied == three_lists
    assert sum(r.seats for r in allocation.rows) == 10


def test_an_unregistered_method_is_refused_naming_the_registered_ones(tmp_path: Path) -> None:
    path = _profile_file(tmp_path, method="toy-imperiali")
    with pytest.raises(InputError, match="method is not one of hare, droop") as info:
        load_profile(path)
    assert (info.value.location.file, info.value.location.column) == (str(path), "method")
