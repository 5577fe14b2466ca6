"""The election declaration's checks: every refusal names the field and the value."""

from __future__ import annotations

from typing import Any

import pytest

from pipelines.election import parse_declaration
from pipelines.errors import InputError


def minimal(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "election_id": "kz-test-2021",
        "rule_profile": "kz-mazhilis-2021",
        "lists": [{"list_id": "a", "name": "A", "ballot_order": 1}],
        "regions": [{"region_id": "r", "name": "R"}],
        "precincts": [{"precinct_id": "p1", "region_id": "r", "registered_voters": 10}],
    }
    data.update(changes)
    return data


def test_a_well_formed_declaration_parses() -> None:
    declaration = parse_declaration(minimal())
    assert declaration.list_ids == ("a",)
    assert declaration.precincts[0].registered_voters == 10


@pytest.mark.parametrize("bad_id", ["../escape", "a/b", ".hidden", "", "with space"])
def test_an_election_id_that_is_not_one_plain_name_is_refused(bad_id: str) -> None:
    with pytest.raises(InputError) as error:
        parse_declaration(minimal(election_id=bad_id))
    assert "election_id" in str(error.value)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"precincts": [{"precinct_id": "p1", "region_id": "nowhere", "registered_voters": 10}]}, "nowhere"),
        ({"lists": [{"list_id": "a", "name": "A", "ballot_order": "1"}]}, "ballot_order"),
        ({"lists": [{"list_id": "a", "name": "A", "ballot_order": 1}] * 2}, "list_id"),
    ],
)
def test_inconsistent_declarations_name_what_is_wrong(changes: dict[str, Any], named: str) -> None:
    with pytest.raises(InputError, match=named):
        parse_declaration(minimal(**changes))
