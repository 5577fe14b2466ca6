"""Rule profiles: the six Kazakhstan profiles, the schema, and clear errors for bad profiles."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import jsonschema
import pytest
import yaml

from pipelines.core.errors import InputError
from pipelines.core.paths import RULES_DIR
from pipelines.rules.rule_profiles import (
    SCHEMA_PATH,
    Guarantee,
    RuleProfile,
    available_profiles,
    load_profile,
    override_profile,
    parse_profile,
    profile_to_dict,
)

KZ = [f"kz-mazhilis-{year}" for year in (2004, 2007, 2012, 2016, 2021, 2023)]


def _valid() -> dict[str, object]:
    return {
        "profile_id": "test-profile",
        "seats": 10,
        "method": "hare",
        "threshold_percent": "7",
        "threshold_base": "valid_list_votes",
    }


def _write(tmp_path: Path, data: object, name: str = "p.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data) if name.endswith(".yaml") else json.dumps(data), encoding="utf-8")
    return path


def test_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def test_one_profile_per_kazakhstan_election() -> None:
    assert set(KZ) <= set(available_profiles())


@pytest.mark.parametrize("profile_id", KZ)
def test_kazakhstan_profiles_state_the_reference_rules(profile_id: str) -> None:
    profile = load_profile(profile_id)
    year = int(profile_id[-4:])
    assert profile.profile_id == profile_id
    assert profile.method == "hare"
    assert profile.tie_break == "ballot_order"
    assert profile.vacant_seats == "leave_vacant"
    if year == 2023:
        assert (profile.seats, profile.threshold, profile.districts) == (69, Fraction(1, 20), 29)
        assert profile.threshold_base == "valid_list_votes_plus_against_all"
    else:
        assert profile.threshold == Fraction(7, 100)
        assert profile.threshold_base == "valid_list_votes"
        assert profile.seats == (10 if year == 2004 else 98)
    # the guarantee dates from the law of 9 February 2009
    if year < 2009:
        assert profile.guarantee.variant == "none"
    else:
        assert profile.guarantee == Guarantee("correction_index", Fraction(7, 10), 2)


@pytest.mark.parametrize("profile_id", KZ)
def test_profile_dict_is_json_safe_and_round_trips(profile_id: str) -> None:
    profile = load_profile(profile_id)
    data = profile_to_dict(profile)
    assert parse_profile(json.loads(json.dumps(data))) == profile


def test_profile_files_validate_against_the_schema() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    for path in RULES_DIR.glob("*.yaml"):
        jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema)


def test_load_by_path_yaml_and_json(tmp_path: Path) -> None:
    data = _valid() | {"threshold_percent": "2.5", "guarantee": {"variant": "proportional"}}
    for name in ("p.yaml", "p.json"):
        profile = load_profile(_write(tmp_path, data, name))
        assert profile.threshold == Fraction(1, 40)
        assert profile.guarantee.variant == "proportional"


@pytest.mark.parametrize(
    ("change", "column", "fragment"),
    [
        ({"threshold_percent": 7.5}, "threshold_percent", "quotes"),
        ({"threshold_percent": "101"}, "threshold_percent", "0 to 100"),
        ({"method": "webster"}, "method", "is not one of"),
        ({"seats": 0}, "seats", "minimum"),
        ({"colour": "red"}, "colour", "unknown field"),
        ({"guarantee": {"variant": "correction_index"}}, "guarantee.index", "missing field"),
        (
            {"guarantee": {"variant": "correction_index", "index": 0.7, "minimum_seats": 2}},
            "guarantee.index",
            "",
        ),
        ({"threshold_base": "turnout"}, "threshold_base", "is not one of"),
    ],
)
def test_bad_profile_names_file_field_and_value(
    tmp_path: Path, change: dict[str, object], column: str, fragment: str
) -> None:
    path = _write(tmp_path, _valid() | change)
    with pytest.raises(InputError) as info:
        load_profile(path)
    assert info.value.location.file == str(path)
    assert info.value.location.column == column
    assert fragment in str(info.value)
    assert str(path) in str(info.value)


def test_missing_required_field(tmp_path: Path) -> None:
    data = _valid()
    del data["seats"]
    with pytest.raises(InputError, match="missing field 'seats'"):
        load_profile(_write(tmp_path, data))


def test_unknown_profile_id_lists_the_known_ones() -> None:
    with pytest.raises(InputError, match="kz-mazhilis-2021") as info:
        load_profile("kz-mazhilis-1999")
    assert info.value.value == "kz-mazhilis-1999"


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("profile_id: x\nseats: [10\n", encoding="utf-8")
    with pytest.raises(InputError, match="not valid YAML") as info:
        load_profile(path)
    assert info.value.location.row is not None


def test_missing_file() -> None:
    with pytest.raises(InputError, match="not found"):
        load_profile(Path("/nonexistent/profile.yaml"))


def test_constructed_profile_is_checked_too() -> None:
    with pytest.raises(InputError, match="method"):
        RuleProfile("x", 10, "largest-remainder", Fraction(7, 100), "valid_list_votes")


def test_overrides_are_recorded_in_the_profile_id() -> None:
    base = load_profile("kz-mazhilis-2021")
    assert override_profile(base) is base
    changed = override_profile(base, method="dhondt", threshold_percent=Fraction(5), seats=50)
    assert (changed.method, changed.threshold, changed.seats) == ("dhondt", Fraction(1, 20), 50)
    assert changed.profile_id == "kz-mazhilis-2021+method=dhondt+threshold=5+seats=50"
