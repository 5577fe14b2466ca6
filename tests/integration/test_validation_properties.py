"""Property: mutate valid protocol files at random; the gate accepts or quarantines with a reason,
never loses a valid row, and lets through only rows that pass."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
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


def example_row(precinct: str, region: str, counts: str) -> dict[str, str]:
    """A row for an @example: counts in COUNTS order, comma-separated."""
    return {"election_id": ELECTION.election_id, "precinct_id": precinct, "region": region} | dict(
        zip(COUNTS, counts.split(","), strict=True)
    )


# The cuts below end the file where a mutation no longer holds: the gate is right to accept the row.
CUT_AFTER_THE_ORIGINAL = Case(  # the duplicate's copy is cut off: P-001 (all zeros) is once in the file
    [
        example_row("P-001", "north", "0,0,0,0,0,0,0"),
        example_row("XP-002", "south", "102,102,102,0,34,34,34"),
        example_row("XP-003", "north", "102,102,102,0,34,34,34"),
        example_row("P-004", "south", "102,102,102,0,34,34,34"),
    ],
    {0: "duplicate", 1: "unknown_precinct", 2: "unknown_precinct"},
    "truncate",
    0.46484375,
    "row",
)
LATER_ROWS = [
    example_row(f"P-{i:03d}", "south", f"{20 * i},{10 * i + 10},{10 * i + 9},2,0,{10 * i},7")
    for i in (4, 6, 8, 10)
]
CUT_BEFORE_THE_EXTRA_FIELD = Case(
    [example_row("P-003", "north", "7,7,7,1,1,2,3"), *LATER_ROWS],
    {0: "extra_field"},
    "truncate",
    0.46875,
    "row",
)
CUT_INSIDE_A_BAD_NUMBER = Case(  # 0x1F cut to 0, which adds up
    [example_row("P-003", "north", "4,4,4,1,1,2,0x1F"), *LATER_ROWS],
    {0: "not_a_number"},
    "truncate",
    0.4658203125,
    "row",
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


@dataclass(frozen=True)
class Record:
    line: int  # where it starts in the file (header = line 1)
    row: int  # index into case.rows
    copy: bool  # the second copy of a duplicated row
    text: str  # the record as the file holds it
    whole: bool  # the file holds it as written (False: a truncation cut into it)


def write_case(case: Case, path: Path) -> list[Record]:
    """Write the file; return every data record the file holds, whole or cut short by a truncation."""
    lines = [",".join(HEADER)]
    written: list[tuple[int, int, bool]] = []
    for i, row in enumerate(case.rows):
        fields = [row[c] for c in HEADER]
        if case.mutations.get(i) == "drop_field":
            fields = fields[:-1]
        elif case.mutations.get(i) == "extra_field":
            fields.append("7")
        lines.append(",".join(fields))
        written.append((len(lines), i, False))
    for i, kind in case.mutations.items():
        if kind == "duplicate":
            lines.append(",".join(case.rows[i][c] for c in HEADER))
            written.append((len(lines), i, True))
    newline = "\r\n" if case.file_mutation in ("crlf", "bom_crlf") else "\n"
    data = (newline.join(lines) + newline).encode("utf-8")
    kept = len(data)
    if case.file_mutation in ("bom", "bom_crlf"):
        data = b"\xef\xbb\xbf" + data
    elif case.file_mutation == "truncate":
        data = data[: max(1, int(len(data) * case.cut))].rstrip(b"\r\n")
        kept = len(data)
    elif case.file_mutation == "semicolons":
        data = data.replace(b",", b";")
    elif case.file_mutation == "nul_byte":
        position = int(len(data) * case.cut)
        data = data[:position] + b"\x00" + data[position:]
    path.write_bytes(data)
    records, start = [], 0
    for number, text in enumerate(lines, start=1):
        held = text.encode("utf-8")[: max(0, kept - start)].decode("utf-8")
        start += len(text) + len(newline)
        if number > 1 and held:
            line, i, copy = written[number - 2]
            records.append(Record(line, i, copy, held, held == text))
    return records


def as_record(row: dict[str, str]) -> tuple[str | int, ...]:
    return (row["precinct_id"], *(int(row[c]) for c in COUNTS))


def passes(text: str) -> bool:
    """The rules, judged on a record's text alone: for the record a truncation cut into, whose last
    cell may now hold another number (`1e3` cut to `1`), or which lost only its extra field."""
    fields = text.split(",")
    if len(fields) != len(HEADER):
        return False
    row = dict(zip(HEADER, fields, strict=True))
    if not all(row[c].isascii() and row[c].isdigit() for c in COUNTS):
        return False
    n = {c: int(row[c]) for c in COUNTS}
    return (
        row["election_id"] == ELECTION.election_id
        and PRECINCTS.get(row["precinct_id"], ("",))[0] == row["region"]
        and max(n.values()) <= 10_000_000
        and sum(n[c] for c in LISTS) + n["invalid_ballots"] == n["ballots_cast"]
        and n["ballots_cast"] <= n["ballots_issued"] <= n["registered_voters"]
    )


def expected_accepted(case: Case, records: list[Record]) -> dict[int, tuple[str | int, ...]]:
    """line -> figures of every record the gate must accept; it must quarantine every other record.

    A mutation counts only as far as the file still holds it: a duplicate whose copy the truncation
    cut off is a valid row, and the record the cut went into is judged by what is left of it."""
    copied = {r.row for r in records if r.copy}
    accepted: dict[int, tuple[str | int, ...]] = {}
    for record in records:
        if not record.whole:
            if passes(record.text) and record.row not in copied:
                accepted[record.line] = as_record(dict(zip(HEADER, record.text.split(","), strict=True)))
            continue
        kind = case.mutations.get(record.row)
        if kind is None or (kind == "duplicate" and record.row not in copied):
            accepted[record.line] = as_record(case.rows[record.row])
    return accepted


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases())
@example(case=CUT_AFTER_THE_ORIGINAL)
@example(case=CUT_BEFORE_THE_EXTRA_FIELD)
@example(case=CUT_INSIDE_A_BAD_NUMBER)
def test_every_file_is_accepted_or_quarantined_and_valid_rows_survive(tmp_path: Path, case: Case) -> None:
    path = tmp_path / "batch.csv"
    records = write_case(case, path)
    policy = ValidationPolicy(mode="file" if case.mode == "file" else "row")
    outcome = validate_file(path, display_name="batch.csv", election=ELECTION, reported={}, policy=policy)
    expected = expected_accepted(case, records)
    accepted = {
        int(r["row"]): (r["precinct_id"], *(int(r[c]) for c in COUNTS))
        for r in outcome.accepted.to_dict("records")
    }
    # Only rows that pass, with their exact figures: every accepted row is a valid record of the file.
    assert accepted.items() <= expected.items()
    assert all(r.rule and r.message and r.file == "batch.csv" for r in outcome.rejections)
    cut_short = [r for r in records if not r.whole and len(r.text.split(",")) < len(HEADER)]
    if outcome.file_rejection is not None:
        assert outcome.file_rejection.rule and outcome.file_rejection.message
        assert outcome.accepted.empty
        assert outcome.summary_lines()[0].startswith("file batch.csv: whole file quarantined")
        if case.file_mutation in ("none", "bom", "crlf", "bom_crlf"):
            assert case.mode == "file" and len(expected) < len(records), (
                "a readable file was quarantined whole"
            )
        if cut_short:
            assert outcome.file_rejection.rule == "truncated_file"
        return
    assert case.file_mutation not in ("semicolons", "nul_byte")
    assert not cut_short, "a file cut inside its last record was not quarantined as truncated"
    rejected_rows = {r.row for r in outcome.rejections}
    # Every record is either accepted or quarantined, and the partition is exactly valid vs broken.
    assert not accepted.keys() & rejected_rows
    assert accepted.keys() | rejected_rows == {r.line for r in records}
    assert accepted == expected
    assert len(outcome.summary_lines()) == len(rejected_rows)
    if case.mode == "file":
        assert len(expected) == len(records)
    list_totals = {list_id: int(outcome.accepted[list_id].sum()) for list_id in LISTS}
    assert list_totals == {
        list_id: sum(int(figures[COUNTS.index(list_id) + 1]) for figures in expected.values())
        for list_id in LISTS
    }
