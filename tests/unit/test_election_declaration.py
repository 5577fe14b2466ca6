"""The election declaration's checks: every refusal names the field and the value."""

from __future__ import annotations

import csv
import random
import tempfile
from pathlib import Path
from typing import Any

import pytest

from pipelines.core.errors import InputError
from pipelines.domain.election import ElectionDeclaration, Precinct, parse_declaration


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


def test_a_list_kind_is_declared_with_the_list_and_written_only_when_not_a_party() -> None:
    lists = [
        {"list_id": "a", "name": "A", "ballot_order": 1},
        {"list_id": "b", "name": "B", "ballot_order": 2, "kind": "coalition"},
        {"list_id": "c", "name": "C", "ballot_order": 3, "kind": "party"},
    ]
    declaration = parse_declaration(minimal(lists=lists))
    assert [p.kind for p in declaration.lists] == ["party", "coalition", "party"]
    written = declaration.to_json_dict(include_precincts=False)["lists"]
    assert ["kind" in item for item in written] == [False, True, False]
    assert parse_declaration(minimal(lists=written)).lists == declaration.lists


@pytest.mark.parametrize("kind", ["Coalition", "", 3, "two words"])
def test_a_list_kind_that_is_not_a_name_is_refused(kind: object) -> None:
    lists = [{"list_id": "a", "name": "A", "ballot_order": 1, "kind": kind}]
    with pytest.raises(InputError, match="'kind' must be a lower-case name") as error:
        parse_declaration(minimal(lists=lists), file="e.election.json")
    assert (error.value.location.file, error.value.location.column) == ("e.election.json", "kind")


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
        ({"date": "2021-02-30"}, "date_format"),
        ({"date": "10.01.2021"}, "date_format"),
        ({"date": "2021-1-10"}, "date_format"),
        ({"date": ""}, "date_format"),
        ({"date": 20210110}, "date_format"),
    ],
)
def test_inconsistent_declarations_name_what_is_wrong(changes: dict[str, Any], named: str) -> None:
    with pytest.raises(InputError, match=named):
        parse_declaration(minimal(**changes))


# The precincts CSV beside the declaration (`precincts_csv`): read in one vectorised pass, checked the same.

HEADER = "precinct_id,region_id,registered_voters\n"


def sidecar(tmp_path: Path, body: str | bytes, **changes: Any) -> tuple[dict[str, Any], Path]:
    raw = body.encode() if isinstance(body, str) else body
    (tmp_path / "p.csv").write_bytes(raw)
    data = minimal(
        precincts_csv="p.csv", regions=[{"region_id": r, "name": r} for r in ("r", "s")], **changes
    )
    del data["precincts"]
    return data, tmp_path


def plain_reading(path: Path) -> list[dict[str, Any]]:
    """What the per-row csv.DictReader reading gave, as the independent reference."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            {
                "precinct_id": r["precinct_id"],
                "region_id": r["region_id"],
                "registered_voters": int(r["registered_voters"]),
            }
            for r in csv.DictReader(handle)
        ]


def test_a_precincts_csv_gives_the_declaration_its_inline_form_would() -> None:
    rng = random.Random(3)
    rows = [(f"P{i:05d}-{rng.randint(0, 9)}", rng.choice("rs"), rng.randint(0, 5_000)) for i in range(3_000)]
    rng.shuffle(rows)
    with tempfile.TemporaryDirectory() as folder:
        body = HEADER + "".join(f"{p},{r},{v}\n" for p, r, v in rows)
        data, base = sidecar(Path(folder), body)
        from_csv = parse_declaration(data, file="d.json", base_dir=base)
        expected = plain_reading(base / "p.csv")
    inline = parse_declaration(
        {**{k: v for k, v in data.items() if k != "precincts_csv"}, "precincts": expected}
    )
    tupled = ElectionDeclaration(
        **{
            f: getattr(inline, f) for f in ("election_id", "name", "date", "rule_profile", "lists", "regions")
        },
        precincts=tuple(Precinct(**p) for p in expected),
    )
    assert from_csv == inline == tupled
    assert from_csv.to_json_dict(include_precincts=True) == tupled.to_json_dict(include_precincts=True)
    assert from_csv.to_json_dict()["precincts"] == expected
    assert from_csv.to_json_dict(include_precincts=False) == tupled.to_json_dict(include_precincts=False)
    assert from_csv.precinct_table().frame()["precinct_id"].tolist() == [p for p, _, _ in rows]


def test_whole_numbers_are_read_as_int_reads_them(tmp_path: Path) -> None:
    body = HEADER + 'a,r, 12 \nb,s,+7\nc,r,007\n"d,1",s,-0\ne,r,9223372036854775807\n'
    data, base = sidecar(tmp_path, "\ufeff" + body)
    declaration = parse_declaration(data, file="d.json", base_dir=base)
    assert [(p.precinct_id, p.registered_voters) for p in declaration.precincts] == [
        ("a", int(" 12 ")),
        ("b", int("+7")),
        ("c", int("007")),
        ("d,1", 0),
        ("e", 2**63 - 1),
    ]


def test_extra_columns_and_blank_lines_are_ignored(tmp_path: Path) -> None:
    body = "note,registered_voters,region_id,precinct_id\nx,5,r,a\n\ny,6,s,b\n"
    data, base = sidecar(tmp_path, body)
    declaration = parse_declaration(data, file="d.json", base_dir=base)
    assert list(declaration.precincts) == [Precinct("a", "r", 5), Precinct("b", "s", 6)]


@pytest.mark.parametrize(
    ("rows", "row", "column", "rule", "value"),
    [
        ("a,r,12\nb,r,12a\nc,r,x\n", 3, "registered_voters", "whole_number", "12a"),
        ("a,r,1.5\n", 2, "registered_voters", "whole_number", "1.5"),
        ("a,r,\n", 2, "registered_voters", "whole_number", ""),
        ("a,r,1_000\n", 2, "registered_voters", "whole_number", "1_000"),
        ("a,r,99999999999999999999\n", 2, "registered_voters", "int64", "99999999999999999999"),
        ("a,r,1\nb, ,2\n  ,r,3\n", 3, "region_id", "required", " "),
        ("a,r,1\n,,2\n", 3, "precinct_id", "required", ""),
        ("a,r,1\nb,r,2\nb,r,3\na,r,4\n", 4, "precinct_id", "unique", "b"),
        ("z,r,1\ny,r,2\nz,r,3\n", 4, "precinct_id", "unique", "z"),
        ("a,r,1\nb,nowhere,2\nc,r,-1\n", 3, "region_id", "declared_region", "nowhere"),
        ("a,r,1\nb,r,-5\nc,elsewhere,2\n", 3, "registered_voters", "non_negative", -5),
        ("a,r,1\nb,r\n", 3, None, "column_count", "b,r"),
        ("a,r,1\nb,r,2,extra\n", 3, None, "column_count", "b,r,2,extra"),
    ],
)
def test_a_bad_precinct_row_is_named_by_file_row_column_rule_and_value(
    tmp_path: Path, rows: str, row: int, column: str | None, rule: str, value: object
) -> None:
    data, base = sidecar(tmp_path, HEADER + rows)
    with pytest.raises(InputError) as error:
        parse_declaration(data, file="d.json", base_dir=base)
    assert (error.value.location.file, error.value.location.row) == ("p.csv", row)
    assert (error.value.location.column, error.value.rule, error.value.value) == (column, rule, value)
    assert "p.csv" in str(error.value) and f"row {row}" in str(error.value)


@pytest.mark.parametrize(
    ("body", "rule", "named"),
    [
        ("", "required", "no precincts"),
        (HEADER, "required", "no precincts"),
        ("precinct_id,region_id\na,r\n", "required", "registered_voters"),
        ("precinct_id,region_id,registered_voters,region_id\na,r,1,s\n", "unique_columns", "region_id"),
        (HEADER.encode() + b"a,r,1\nb,\xff,2\n", "encoding", "row 3"),
    ],
)
def test_a_precincts_file_that_cannot_be_read_as_a_table_is_refused(
    tmp_path: Path, body: str | bytes, rule: str, named: str
) -> None:
    data, base = sidecar(tmp_path, body)
    with pytest.raises(InputError, match=named) as error:
        parse_declaration(data, file="d.json", base_dir=base)
    assert error.value.rule == rule
    assert error.value.location.file == "p.csv"


def test_a_missing_precincts_file_is_named(tmp_path: Path) -> None:
    data, base = sidecar(tmp_path, HEADER + "a,r,1\n")
    data["precincts_csv"] = "absent.csv"
    with pytest.raises(InputError, match="cannot read precincts file") as error:
        parse_declaration(data, file="d.json", base_dir=base)
    assert error.value.location.file == "d.json"


def test_inline_precincts_are_checked_like_csv_ones() -> None:
    rows = [{"precinct_id": p, "region_id": "r", "registered_voters": 1} for p in ("x", "y", "x", "y")]
    with pytest.raises(InputError, match="precinct_id must be unique") as error:
        parse_declaration(minimal(precincts=rows))
    assert (error.value.rule, error.value.value, error.value.location.row) == ("unique", "x", None)
    negative = [{"precinct_id": "p1", "region_id": "r", "registered_voters": -1}]
    with pytest.raises(InputError, match=">= 0"):
        parse_declaration(minimal(precincts=negative))
