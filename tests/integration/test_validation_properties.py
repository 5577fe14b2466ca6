"""Property: mutate valid protocol files at random; the gate accepts or quarantines with a reason,
never loses a valid row, and lets through only rows that pass."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.gate.validation import ValidationPolicy, validate_file
from tests.integration.validation_support import HEADER, LISTS, declaration

PRECINCTS = {f"P-{i:03d}": ("north" if i % 2 else "south", 5000) for i in range(1, 13)}
ELECTION = declaration(precincts=PRECINCTS)
COUNTS = ("registered_voters", "ballots_issued", "ballots_cast", "invalid_ballots", *LISTS)
REQUIRED_COUNTS = ("registered_voters", "ballots_cast", "invalid_ballots", *LISTS)
ROW_MUTATIONS = (
    "not_a_number",
    "negative",
    "break_sum",
    "unknown_precinct",
    "wrong_election",
    "other_region",
    "formula",
    "drop_field",
    "extra_field",
    "duplicate",
    "huge",
    "issued_over_registered",
    "cast_over_issued",
)
FILE_MUTATIONS = ("none", "bom", "crlf", "bom_crlf", "truncate", "semicolons", "nul_byte")


@st.composite
def valid_row(draw: st.DrawFn, precinct: str) -> dict[str, str]:
    votes = {list_id: draw(st.integers(0, 400)) for list_id in LISTS}
    invalid = draw(st.integers(0, 40))
    cast = sum(votes.values()) + invalid
    issued = cast + draw(st.integers(0, 15))
    registered = issued + draw(st.integers(0, 900))
    row = {
        "election_id": ELECTION.election_id,
        "precinct_id": precinct,
        "region": PRECINCTS[precinct][0],
        "registered_voters": registered,
        "ballots_issued": issued,
        "ballots_cast": cast,
        "invalid_ballots": invalid,
        **votes,
    }
    return {k: str(v) for k, v in row.items()}


@dataclass
class Case:
    rows: list[dict[str, str]]
    mutations: dict[int, str]  # index into rows -> mutation
    file_mutation: str
    cut: float
    mode: str


@st.composite
def cases(draw: st.DrawFn) -> Case:
    precincts = draw(st.lists(st.sampled_from(sorted(PRECINCTS)), min_size=1, max_size=8, unique=True))
    rows = [draw(valid_row(p)) for p in precincts]
    mutated = draw(st.lists(st.integers(0, len(rows) - 1), unique=True, max_size=len(rows)))
    mutations = {i: draw(st.sampled_from(ROW_MUTATIONS)) for i in mutated}
    for i, kind in mutations.items():
        mutate(rows[i], kind, draw)
    file_mutation = draw(st.sampled_from(FILE_MUTATIONS))
    return Case(
        rows, mutations, file_mutation, draw(st.floats(0.05, 0.95)), draw(st.sampled_from(["row", "file"]))
    )


def mutate(row: dict[str, str], kind: str, draw: st.DrawFn) -> None:
    """Make `row` break at least one rule (duplicate/field mutations act when the file is written)."""
    if kind == "not_a_number":
        row[draw(st.sampled_from(REQUIRED_COUNTS))] = draw(
            st.sampled_from(["", "abc", "1.5", "1e3", "1 2", "0x1F"])
        )
    elif kind == "negative":
        column = draw(st.sampled_from(COUNTS))
        row[column] = str(-int(row[column]) - 1)
    elif kind == "break_sum":
        bump = draw(st.integers(1, 5))
        for column in ("ballots_cast", "ballots_issued", "registered_voters"):
            row[column] = str(int(row[column]) + bump)
    elif kind == "unknown_precinct":
        row["precinct_id"] = "X" + row["precinct_id"]
    elif kind == "wrong_election":
        row["election_id"] = "another-2021"
    elif kind == "other_region":
        row["region"] = "south" if row["region"] == "north" else "north"
    elif kind == "formula":
        row[draw(st.sampled_from(["election_id", "region"]))] = "=cmd|' /C calc'!A0"
    elif kind == "huge":
        row["registered_voters"] = str(10**12)
    elif kind == "issued_over_registered":
        row["registered_voters"] = str(int(row["ballots_issued"]) - 1)
    elif kind == "cast_over_issued":
        row["ballots_issued"] = str(int(row["ballots_cast"]) - 1)


def write_case(case: Case, path: Path) -> list[tuple[int, int]]:
    """Write the file; return (line, row index) of every data record."""
    lines = [",".join(HEADER)]
    records: list[tuple[int, int]] = []
    for i, row in enumerate(case.rows):
        fields = [row[c] for c in HEADER]
        if case.mutations.get(i) == "drop_field":
            fields = fields[:-1]
        elif case.mutations.get(i) == "extra_field":
            fields.append("7")
        lines.append(",".join(fields))
        records.append((len(lines), i))
    for i, kind in case.mutations.items():
        if kind == "duplicate":
            lines.append(",".join(case.rows[i][c] for c in HEADER))
            records.append((len(lines), i))
    newline = "\r\n" if case.file_mutation in ("crlf", "bom_crlf") else "\n"
    data = (newline.join(lines) + newline).encode("utf-8")
    if case.file_mutation in ("bom", "bom_crlf"):
        data = b"\xef\xbb\xbf" + data
    elif case.file_mutation == "truncate":
        data = data[: max(1, int(len(data) * case.cut))].rstrip(b"\r\n")
    elif case.file_mutation == "semicolons":
        data = data.replace(b",", b";")
    elif case.file_mutation == "nul_byte":
        position = int(len(data) * case.cut)
        data = data[:position] + b"\x00" + data[position:]
    path.write_bytes(data)
    return records


def as_record(row: dict[str, str]) -> tuple[str | int, ...]:
    return (row["precinct_id"], *(int(row[c]) for c in COUNTS))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases())
def test_every_file_is_accepted_or_quarantined_and_valid_rows_survive(tmp_path: Path, case: Case) -> None:
    path = tmp_path / "batch.csv"
    records = write_case(case, path)
    policy = ValidationPolicy(mode="file" if case.mode == "file" else "row")
    outcome = validate_file(path, display_name="batch.csv", election=ELECTION, reported={}, policy=policy)
    valid = {i for i in range(len(case.rows)) if i not in case.mutations}
    accepted = {(r["precinct_id"], *(int(r[c]) for c in COUNTS)) for r in outcome.accepted.to_dict("records")}
    # Only rows that pass, with their exact figures: every accepted row is an unmutated row of the file.
    assert accepted <= {as_record(case.rows[i]) for i in valid}
    assert all(r.rule and r.message and r.file == "batch.csv" for r in outcome.rejections)
    if outcome.file_rejection is not None:
        assert outcome.file_rejection.rule and outcome.file_rejection.message
        assert outcome.accepted.empty
        assert outcome.summary_lines()[0].startswith("file batch.csv: whole file quarantined")
        if case.file_mutation in ("none", "bom", "crlf", "bom_crlf"):
            assert case.mode == "file" and case.mutations, "a readable file was quarantined whole"
        return
    assert case.file_mutation not in ("semicolons", "nul_byte")
    rejected_rows = {r.row for r in outcome.rejections}
    accepted_rows = set(outcome.accepted["row"])
    assert not accepted_rows & rejected_rows
    if case.file_mutation == "truncate":
        return  # which records survive the cut is not known here; the checks above still hold
    # Every record is either accepted or quarantined, and the partition is exactly valid vs mutated.
    assert accepted_rows | rejected_rows == {line for line, _ in records}
    assert accepted_rows == {line for line, i in records if i in valid}
    assert accepted == {as_record(case.rows[i]) for i in valid}
    assert len(outcome.summary_lines()) == len(rejected_rows)
    if case.mode == "file":
        assert not case.mutations
    list_totals = {list_id: int(outcome.accepted[list_id].sum()) for list_id in LISTS}
    assert list_totals == {list_id: sum(int(case.rows[i][list_id]) for i in valid) for list_id in LISTS}
