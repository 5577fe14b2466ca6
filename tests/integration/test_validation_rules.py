"""Each blocking rule of the GX gate has a failing fixture; passing rows of the same file proceed."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path

import pytest

from pipelines.domain.election import ElectionDeclaration
from pipelines.gate.validation import (
    ReportedProtocol,
    ValidationOutcome,
    ValidationPolicy,
    accepted_columns,
    validate_file,
)
from tests.integration.validation_support import HEADER, LISTS, csv_text, declaration, good_row, write

ELECTION = declaration()


def run(
    tmp_path: Path,
    rows: list[dict[str, str]],
    *,
    header: tuple[str, ...] = HEADER,
    reported: Mapping[str, ReportedProtocol] | None = None,
    policy: ValidationPolicy | None = None,
    election: ElectionDeclaration = ELECTION,
) -> ValidationOutcome:
    path = write(tmp_path / "batch.csv", csv_text(rows, header))
    return validate_file(
        path,
        display_name="batch.csv",
        election=election,
        reported=reported or {},
        policy=policy or ValidationPolicy(),
    )


def rules_by_row(outcome: ValidationOutcome) -> dict[int, set[tuple[str, str | None]]]:
    out: dict[int, set[tuple[str, str | None]]] = {}
    for r in outcome.rejections:
        out.setdefault(r.row, set()).add((r.rule, r.column))
    return out


# Row 2 is always a good P-001 row; row 3 breaks exactly one rule.
BROKEN_ROWS: list[tuple[str, dict[str, str], str, str, str]] = [
    ("wrong_election", good_row("P-002", election_id="other-2021"), "election_id", "other-2021", ""),
    ("unknown_precinct", good_row("P-999"), "precinct_id", "P-999", ""),
    ("unknown_region", good_row("P-002", region="atlantis"), "region", "atlantis", ""),
    ("region_mismatch", good_row("P-002", region="south"), "region", "south", ""),
    ("does_not_add_up", good_row("P-002", amanat="401"), "ballots_cast", "600", "parts sum to 601"),
    (
        "cast_exceeds_issued",
        good_row("P-002", ballots_issued="590"),
        "ballots_cast",
        "600",
        "600 cast, 590 issued",
    ),
    (
        "issued_exceeds_registered",
        good_row("P-002", registered_voters="605"),
        "ballots_issued",
        "610",
        "610 issued, limit 605",
    ),
    ("negative_count", good_row("P-002", invalid_ballots="-10", amanat="420"), "invalid_ballots", "-10", ""),
    ("count_too_large", good_row("P-002", registered_voters="10000001"), "registered_voters", "10000001", ""),
    ("not_a_whole_number", good_row("P-002", ak_zhol="15O"), "ak_zhol", "15O", "whole number"),
    ("not_a_whole_number", good_row("P-002", ak_zhol=""), "ak_zhol", "", "whole number"),
    ("not_a_whole_number", good_row("P-002", ak_zhol="150.0"), "ak_zhol", "150.0", "whole number"),
]


@pytest.mark.parametrize(("rule", "row", "column", "value", "detail"), BROKEN_ROWS)
def test_each_protocol_rule_quarantines_its_row(
    tmp_path: Path, rule: str, row: dict[str, str], column: str, value: str, detail: str
) -> None:
    outcome = run(tmp_path, [good_row("P-001"), row])
    assert outcome.file_rejection is None
    assert rules_by_row(outcome) == {3: {(rule, column)}}
    (rejection,) = outcome.rejections
    assert (rejection.file, rejection.row, rejection.value) == ("batch.csv", 3, value)
    assert detail in rejection.message
    assert list(outcome.accepted["precinct_id"]) == ["P-001"]


def test_duplicate_precinct_rejects_all_its_rows(tmp_path: Path) -> None:
    outcome = run(
        tmp_path, [good_row("P-001"), good_row("P-002"), good_row("P-001", amanat="399", auyl="41")]
    )
    assert rules_by_row(outcome) == {
        2: {("duplicate_precinct", "precinct_id")},
        4: {("duplicate_precinct", "precinct_id")},
    }
    assert list(outcome.accepted["precinct_id"]) == ["P-002"]


def test_day_allowance_as_share_and_as_number(tmp_path: Path) -> None:
    row = good_row("P-001", registered_voters="590", ballots_issued="600")  # 10 over the roll
    assert run(tmp_path, [row]).rejections[0].rule == "issued_exceeds_registered"
    by_share = run(tmp_path, [row], policy=ValidationPolicy(day_allowance=Fraction(1, 50)))  # 590/50 -> 11
    assert by_share.rejections == [] and len(by_share.accepted) == 1
    too_small = run(tmp_path, [row], policy=ValidationPolicy(day_allowance=Fraction(1, 60)))  # 590/60 -> 9
    assert [r.rule for r in too_small.rejections] == ["issued_exceeds_registered"]
    assert run(tmp_path, [row], policy=ValidationPolicy(day_allowance=10)).rejections == []
    assert run(tmp_path, [row], policy=ValidationPolicy(day_allowance=9)).rejections != []


def test_absent_optional_columns_take_defaults(tmp_path: Path) -> None:
    header = tuple(h for h in HEADER if h != "ballots_issued")
    outcome = run(tmp_path, [good_row("P-001"), good_row("P-002", registered_voters="599")], header=header)
    # ballots_issued defaults to ballots_cast (600), which exceeds 599 registered voters on row 3
    assert rules_by_row(outcome) == {3: {("issued_exceeds_registered", "ballots_cast")}}
    accepted = outcome.accepted
    assert tuple(accepted.columns) == accepted_columns("protocol", LISTS)
    first = accepted.iloc[0]
    assert (first["ballots_issued"], first["against_all"], first["version"], first["reason"]) == (
        600,
        0,
        1,
        "",
    )
    assert first["row"] == 2 and first["amanat"] == 400
    assert all(str(accepted[c].dtype) == "int64" for c in ("registered_voters", *LISTS))


def test_empty_optional_cells_take_defaults(tmp_path: Path) -> None:
    header = (*HEADER, "against_all", "version", "reason")
    outcome = run(
        tmp_path, [good_row("P-001", ballots_issued="", against_all="", version="", reason="")], header=header
    )
    assert outcome.rejections == []
    first = outcome.accepted.iloc[0]
    assert (first["ballots_issued"], first["against_all"], first["version"]) == (600, 0, 1)


def test_against_all_counts_when_on_the_ballot(tmp_path: Path) -> None:
    header = (*HEADER, "against_all")
    row = good_row("P-001", amanat="380", against_all="20")
    with_line = run(tmp_path, [row], header=header, election=declaration(against_all=True))
    assert with_line.rejections == [] and with_line.accepted.iloc[0]["against_all"] == 20
    without_line = run(tmp_path, [row], header=header)
    assert rules_by_row(without_line) == {2: {("against_all_not_on_ballot", "against_all")}}
    not_added = run(
        tmp_path, [good_row("P-001", against_all="20")], header=header, election=declaration(against_all=True)
    )
    assert rules_by_row(not_added) == {2: {("does_not_add_up", "ballots_cast")}}


AMEND_HEADER = (*HEADER, "version", "reason")
REPORTED = {"P-001": ReportedProtocol(version=2, figures={"amanat": 400, "ak_zhol": 150, "auyl": 40})}


def test_amendments_must_refer_to_a_reported_precinct_with_a_higher_version(tmp_path: Path) -> None:
    rows = [
        good_row("P-001", version="3", reason="recount"),  # fine
        good_row("P-002", version="2", reason="recount"),  # P-002 never reported
        good_row("P-003", version="0", reason="x"),  # no such version
    ]
    outcome = run(tmp_path, rows, header=AMEND_HEADER, reported=REPORTED)
    assert rules_by_row(outcome) == {
        3: {("amendment_of_unreported_precinct", "version")},
        4: {("bad_version", "version")},
    }
    assert list(outcome.accepted["version"]) == [3]
    same = run(
        tmp_path, [good_row("P-001", version="2", reason="recount")], header=AMEND_HEADER, reported=REPORTED
    )
    assert rules_by_row(same) == {2: {("amendment_version_not_higher", "version")}}
    assert "accepted version is 2" in same.rejections[0].message


def test_amendment_needs_a_reason(tmp_path: Path) -> None:
    outcome = run(
        tmp_path, [good_row("P-001", version="3", reason="")], header=AMEND_HEADER, reported=REPORTED
    )
    assert rules_by_row(outcome) == {2: {("amendment_without_reason", "reason")}}


def test_first_reports_of_reported_precincts_pass_for_the_event_store_to_judge(tmp_path: Path) -> None:
    outcome = run(tmp_path, [good_row("P-001"), good_row("P-002")], reported=REPORTED)
    assert outcome.rejections == [] and list(outcome.accepted["precinct_id"]) == ["P-001", "P-002"]


def test_formula_in_a_text_field(tmp_path: Path) -> None:
    rows = [good_row("P-001", version="3", reason="@SUM(A1:A9)"), good_row("P-002")]
    outcome = run(tmp_path, rows, header=AMEND_HEADER, reported=REPORTED)
    assert rules_by_row(outcome) == {2: {("formula_in_text", "reason")}}


def test_cell_rules_name_each_failing_cell_with_its_row_column_value_and_message(tmp_path: Path) -> None:
    # Count and text rules run on one (row, column) frame: each failing cell must still come back as
    # its own rejection, with the file's row, the cell's column and raw text, and the column in the message.
    lists = [f"list{i:02d}" for i in range(12)]
    election = declaration(lists=lists)
    header = ("election_id", "precinct_id", "region", "registered_voters", "ballots_cast", "invalid_ballots")
    votes = {name: "10" for name in lists}
    good = {"election_id": "test-2021", "region": "north", "registered_voters": "1000"}
    good |= {"ballots_cast": "130", "invalid_ballots": "10", **votes}
    rows = [
        {**good, "precinct_id": "P-001", "list03": "x", "list11": "-2"},
        {**good, "precinct_id": "+P-002"},
        {**good, "precinct_id": "P-003", "region": "south", "registered_voters": "99999999"},
    ]
    outcome = run(tmp_path, rows, header=(*header, *lists), election=election)
    got = {(r.row, r.column, r.rule, r.value, r.message, r.precinct_id) for r in outcome.rejections}
    assert {
        (2, "list03", "not_a_whole_number", "x", "list03 must be a whole number", "P-001"),
        (2, "list11", "negative_count", "-2", "list11 must be 0 or more", "P-001"),
        (
            3,
            "precinct_id",
            "formula_in_text",
            "+P-002",
            "precinct_id starts like a spreadsheet formula (= + - @)",
            "+P-002",
        ),
        (
            4,
            "registered_voters",
            "count_too_large",
            "99999999",
            "registered_voters is above the cap for one precinct",
            "P-003",
        ),
    } <= got
    assert (3, "unknown_precinct") in {(r.row, r.rule) for r in outcome.rejections}
    # A cell that is not a number is reported once, not again as a sum that does not add up.
    assert [r.rule for r in outcome.rejections if r.row == 2] == ["negative_count", "not_a_whole_number"]
    assert not [r for r in outcome.rejections if r.row == 4 and r.rule != "count_too_large"]
    assert outcome.accepted.empty


def test_several_broken_rules_on_one_row_are_all_reported(tmp_path: Path) -> None:
    outcome = run(tmp_path, [good_row("P-999", election_id="x", region="mars", invalid_ballots="-1")])
    assert {rule for rule, _ in rules_by_row(outcome)[2]} == {
        "wrong_election",
        "unknown_precinct",
        "unknown_region",
        "negative_count",
        "does_not_add_up",
    }
    assert outcome.accepted.empty


def test_file_policy_quarantines_the_whole_file(tmp_path: Path) -> None:
    rows = [good_row("P-001"), good_row("P-002", amanat="1")]
    outcome = run(tmp_path, rows, policy=ValidationPolicy(mode="file"))
    assert outcome.file_rejection is not None
    assert outcome.file_rejection.rule == "rows_rejected_under_file_policy"
    assert outcome.accepted.empty
    assert [r.rule for r in outcome.rejections] == ["does_not_add_up"]
    clean = run(tmp_path, [good_row("P-001")], policy=ValidationPolicy(mode="file"))
    assert clean.file_rejection is None and len(clean.accepted) == 1


ANNUL_HEADER = ("election_id", "precinct_id", "reason", "decided_by")


def annulment(precinct: str, **changes: str) -> dict[str, str]:
    row = {
        "election_id": "test-2021",
        "precinct_id": precinct,
        "reason": "seal broken",
        "decided_by": "TEC North",
    }
    row.update(changes)
    return row


@pytest.mark.parametrize(
    ("row", "rule", "column"),
    [
        (annulment("P-002", election_id="other"), "wrong_election", "election_id"),
        (annulment("P-404"), "unknown_precinct", "precinct_id"),
        (annulment("P-002", reason=""), "missing_reason", "reason"),
        (annulment("P-002", decided_by=""), "missing_decided_by", "decided_by"),
        (annulment("P-002", decided_by="+1 Commission"), "formula_in_text", "decided_by"),
    ],
)
def test_annulment_rules(tmp_path: Path, row: dict[str, str], rule: str, column: str) -> None:
    outcome = run(tmp_path, [annulment("P-001"), row], header=ANNUL_HEADER)
    assert outcome.kind == "annulment"
    assert rules_by_row(outcome) == {3: {(rule, column)}}
    assert list(outcome.accepted.columns) == ["row", *ANNUL_HEADER]
    assert outcome.accepted.to_dict("records") == [{"row": 2, **annulment("P-001")}]


def test_annulment_of_the_same_precinct_twice(tmp_path: Path) -> None:
    outcome = run(tmp_path, [annulment("P-001"), annulment("P-001")], header=ANNUL_HEADER)
    assert {r.rule for r in outcome.rejections} == {"duplicate_precinct"} and outcome.accepted.empty


def test_summary_has_one_line_per_quarantined_row(tmp_path: Path) -> None:
    rows = [good_row("P-001"), good_row("P-999", amanat="1"), good_row("P-002", ak_zhol="x")]
    outcome = run(tmp_path, rows)
    lines = outcome.summary_lines()
    assert len(lines) == 2
    assert lines[0].startswith("file batch.csv, row 3 (precinct P-999)")
    assert "unknown_precinct" in lines[0] and "does_not_add_up" in lines[0]
    assert "row 4" in lines[1] and "column 'ak_zhol'" in lines[1] and "'x'" in lines[1]
    assert "Traceback" not in "\n".join(lines)


def test_a_list_id_that_collides_with_a_format_column_rejects_the_file(tmp_path: Path) -> None:
    election = declaration(lists=("amanat", "version"))
    header = ("election_id", "precinct_id", "region", "registered_voters", "ballots_cast", "invalid_ballots")
    outcome = run(tmp_path, [good_row("P-001")], header=(*header, "amanat", "version"), election=election)
    assert outcome.file_rejection is not None and outcome.file_rejection.rule == "list_id_clash"
    assert "'version'" in outcome.file_rejection.message


def test_a_file_whose_every_record_is_ragged_is_handled(tmp_path: Path) -> None:
    path = write(tmp_path / "batch.csv", ",".join(HEADER) + "\nP-001,1\nP-002\n")
    outcome = validate_file(path, display_name="batch.csv", election=ELECTION, reported={})
    assert outcome.file_rejection is None and outcome.accepted.empty
    assert [(r.row, r.rule) for r in outcome.rejections] == [(2, "field_count"), (3, "field_count")]
