"""The suites in schemas/expectations/ are well-formed data and expand per election."""

from __future__ import annotations

import pytest

from pipelines.expectation_suites import expand_suite, load_suite_template


@pytest.mark.parametrize("name", ["protocol-v1", "annulment-v1"])
def test_every_expectation_names_a_rule_a_column_and_a_message(name: str) -> None:
    template = load_suite_template(name)
    assert template["name"] == name
    groups = set(template.get("column_groups", {}))
    for item in template["expectations"]:
        assert item["type"].startswith("expect_")
        assert {"rule", "column", "message"} <= set(item["meta"])
        if "for_each" in item:
            assert item["for_each"] in groups


def test_for_each_repeats_over_the_group_with_the_column_substituted() -> None:
    groups = {"required_counts": ["registered_voters", "amanat"], "nonnegative_counts": ["amanat"]}
    specs = expand_suite("protocol-v1", groups)
    regex = [s for s in specs if s.rule == "not_a_whole_number"]
    assert [(s.column, s.kwargs["column"]) for s in regex] == [
        ("registered_voters", "registered_voters"),
        ("amanat", "amanat"),
    ]
    negative = [s for s in specs if s.rule == "negative_count"]
    assert [(s.column, s.kwargs["column"], s.message) for s in negative] == [
        ("amanat", "n__amanat", "amanat must be 0 or more")
    ]
    assert not [s for s in specs if s.rule == "against_all_not_on_ballot"]  # absent group: none
    assert len([s for s in specs if s.rule == "duplicate_precinct"]) == 1


def test_expansion_does_not_change_the_template() -> None:
    expand_suite("annulment-v1", {"text_columns": ["reason"]})
    expand_suite("annulment-v1", {"text_columns": ["decided_by"]})
    item = load_suite_template("annulment-v1")["expectations"][0]
    assert item["kwargs"]["column"] == "{column}"
