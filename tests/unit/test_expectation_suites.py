"""The suites in schemas/expectations/ are well-formed data and expand per election."""

from __future__ import annotations

import pytest

from pipelines.gate.expectation_suites import cell_suite, expand_suite, load_suite_template


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
    specs = expand_suite("protocol-v1", {"against_all_off_ballot": ["against_all"]})
    off_ballot = [s for s in specs if s.rule == "against_all_not_on_ballot"]
    assert [(s.column, s.kwargs["column"]) for s in off_ballot] == [("against_all", "n__against_all")]
    assert not [s for s in expand_suite("protocol-v1", {}) if s.rule == "against_all_not_on_ballot"]
    assert len([s for s in specs if s.rule == "duplicate_precinct"]) == 1


def test_version_and_issued_rules_run_only_on_files_with_those_columns() -> None:
    conditional = {
        "bad_version",
        "amendment_of_unreported_precinct",
        "amendment_version_not_higher",
        "amendment_without_reason",
        "cast_exceeds_issued",
    }
    without = {s.rule for s in expand_suite("protocol-v1", {})}
    with_both = expand_suite(
        "protocol-v1", {"version_present": ["version"], "ballots_issued_present": ["ballots_issued"]}
    )
    assert not without & conditional
    assert {s.rule for s in with_both} == without | conditional
    assert len(with_both) == len(without) + len(conditional)


def test_count_rules_are_cell_expectations_whatever_the_number_of_lists() -> None:
    few = expand_suite("protocol-v1", {"required_counts": ["a"], "nonnegative_counts": ["a"]})
    many_lists = [f"list{i}" for i in range(40)]
    many = expand_suite("protocol-v1", {"required_counts": many_lists, "nonnegative_counts": many_lists})
    assert len(few) == len(many)
    cells = cell_suite("protocol-v1")
    assert {s.rule for s in cells} == {
        "not_a_whole_number",
        "negative_count",
        "count_too_large",
        "formula_in_text",
    }
    assert not {s.rule for s in cells} & {s.rule for s in many}
    cell_columns = set(load_suite_template("protocol-v1")["cell_frame"])
    assert {s.kwargs["column"] for s in cells} <= cell_columns
    negative = next(s for s in cells if s.rule == "negative_count")
    assert (negative.column_for("amanat"), negative.message_for("amanat")) == (
        "amanat",
        "amanat must be 0 or more",
    )
    assert [s.rule for s in cell_suite("annulment-v1")] == ["formula_in_text"]


def test_expansion_does_not_change_the_template() -> None:
    expand_suite("protocol-v1", {"against_all_off_ballot": ["against_all"]})
    expand_suite("protocol-v1", {"against_all_off_ballot": ["other"]})
    item = next(
        e
        for e in load_suite_template("protocol-v1")["expectations"]
        if e.get("for_each") == "against_all_off_ballot"
    )
    assert item["kwargs"]["column"] == "n__{column}"
