"""Every file of the malformed corpus (tests/fixtures/malformed/) goes through the gate with its reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.gate.validation import ValidationOutcome, validate_file
from tests.integration.validation_support import declaration

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "malformed"
ELECTION = declaration()

# file name -> rule of the whole-file quarantine
WHOLE_FILE: dict[str, str] = {
    "empty.csv": "empty_file",
    "blanks_only.csv": "empty_file",
    "binary_nul.csv": "binary_file",
    "xlsx_renamed.csv": "binary_file",
    "control_character.csv": "binary_file",
    "utf16.csv": "wrong_encoding",
    "cp1251.csv": "wrong_encoding",
    "semicolon.csv": "wrong_delimiter",
    "tab_separated.csv": "wrong_delimiter",
    "missing_column.csv": "missing_column",
    "missing_list_column.csv": "missing_column",
    "extra_column.csv": "unknown_column",
    "duplicated_header_column.csv": "duplicate_column",
    "header_only.csv": "no_data_rows",
    "truncated_mid_row.csv": "truncated_file",
    "truncated_in_quotes.csv": "truncated_file",
}
# file name -> ({row: {(rule, column, value)}}, precincts accepted)
ROW_LEVEL: dict[str, tuple[dict[int, set[tuple[str, str | None, str | None]]], list[str]]] = {
    "bom_utf8.csv": ({}, ["P-001", "P-002", "P-003"]),
    "crlf.csv": ({}, ["P-001", "P-002", "P-003"]),
    "bom_crlf_no_final_newline.csv": ({}, ["P-001", "P-002"]),
    "repeated_header_row.csv": ({3: {("repeated_header", None, None)}}, ["P-001", "P-002"]),
    "ragged_row.csv": (
        {3: {("field_count", None, "test-2021,P-002,north,800,500,500,20,300,100,80,17")}},
        ["P-001", "P-003"],
    ),
    "negative_count.csv": ({3: {("negative_count", "ak_zhol", "-100")}}, ["P-001"]),
    "huge_count.csv": (
        {
            3: {
                ("count_too_large", "amanat", "99999999999999999999999"),
                ("does_not_add_up", "ballots_cast", "500"),
            }
        },
        ["P-001"],
    ),
    "non_numeric_counts.csv": (
        {
            3: {("not_a_whole_number", "amanat", "3OO")},
            4: {("not_a_whole_number", "amanat", "500.0")},
            5: {("not_a_whole_number", "amanat", "1e2")},
        },
        ["P-001"],
    ),
    "formula_in_text.csv": ({2: {("formula_in_text", "reason", "=cmd|' /C calc'!A0")}}, ["P-002"]),
}


def outcome_of(name: str) -> ValidationOutcome:
    return validate_file(CORPUS / name, display_name=name, election=ELECTION, reported={})


def test_every_corpus_file_has_an_expected_outcome() -> None:
    assert sorted(p.name for p in CORPUS.iterdir()) == sorted([*WHOLE_FILE, *ROW_LEVEL])


@pytest.mark.parametrize(("name", "rule"), sorted(WHOLE_FILE.items()))
def test_unreadable_files_are_quarantined_whole(name: str, rule: str) -> None:
    outcome = outcome_of(name)
    assert outcome.file_rejection is not None
    assert (outcome.file_rejection.file, outcome.file_rejection.rule) == (name, rule)
    assert outcome.accepted.empty and outcome.data_docs is None
    assert outcome.kind == ("annulment" if name in ("cp1251.csv", "truncated_in_quotes.csv") else "protocol")
    (line,) = outcome.summary_lines()
    assert line.startswith(f"file {name}: whole file quarantined:") and f"[rule: {rule}]" in line


@pytest.mark.parametrize("name", sorted(ROW_LEVEL))
def test_row_level_problems_quarantine_only_their_rows(name: str) -> None:
    expected_rows, accepted = ROW_LEVEL[name]
    outcome = outcome_of(name)
    assert outcome.file_rejection is None
    found: dict[int, set[tuple[str, str | None, str | None]]] = {}
    for r in outcome.rejections:
        assert r.file == name and r.message
        found.setdefault(r.row, set()).add((r.rule, r.column, r.value))
    assert found == expected_rows
    assert list(outcome.accepted["precinct_id"]) == accepted
    assert len(outcome.summary_lines()) == len(expected_rows)


def test_bom_crlf_values_are_the_same_as_plain_ones() -> None:
    plain = outcome_of("bom_utf8.csv").accepted
    crlf = outcome_of("crlf.csv").accepted
    assert plain.equals(crlf)
    assert plain.loc[0, "election_id"] == "test-2021"
    assert list(plain["auyl"]) == [40, 80, 100]
