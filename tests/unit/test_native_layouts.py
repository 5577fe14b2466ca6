"""Native layouts: a layout file's checks and canonical content, and native files read through one."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipelines.core.errors import InputError
from pipelines.core.paths import REPO_ROOT
from pipelines.gate.native_layout import layout_from_content, load_layout, parse_layout, shipped_layouts
from pipelines.gate.native_table import NativeFile, precinct_ids_of, protocol_table, read_native, read_row
from pipelines.gate.protocol_format import FormatRejection, RawTable, RowFormatProblem

LAYOUT_FILE = REPO_ROOT / "examples" / "native" / "commission-cp1251.yaml"
HEADER = (
    "Регион;ТИК;УИК;Название региона;Число избирателей;Выдано бюллетеней;Действительные;Недействительные;"
    "Партия «Заря»;Народный союз;Zelenye Party"
)
TITLE = "Итоги голосования по участкам;;;;;;;;;;"


def native_bytes(*rows: str, header: str = HEADER) -> bytes:
    return "\r\n".join([TITLE, header, *rows, ""]).encode("cp1251")


def layout_data() -> dict[str, object]:
    loaded = yaml.safe_load(LAYOUT_FILE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def read(data: bytes) -> NativeFile:
    native = read_native(data, load_layout(str(LAYOUT_FILE)))
    assert isinstance(native, NativeFile), native
    return native


def test_shipped_layouts_parse() -> None:
    assert "protocol-v1" in shipped_layouts()
    for layout_id in shipped_layouts():
        assert load_layout(layout_id).layout_id == layout_id


def test_canonical_content_is_the_same_for_two_spellings_and_round_trips() -> None:
    layout = load_layout(str(LAYOUT_FILE))
    spelled = {**layout_data(), "encoding": "windows-1251", "delimiter": ";", "quote": '"'}
    assert parse_layout(spelled).sha256 == layout.sha256
    assert layout_from_content(layout.content, layout.sha256) == layout
    with pytest.raises(InputError, match="does not match its SHA-256"):
        layout_from_content(layout.content, "0" * 64)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "red"}, "unknown field 'colour'"),
        ({"encoding": "klingon"}, "unknown encoding"),
        ({"encoding": "hex"}, "unknown encoding"),
        ({"delimiter": ";;"}, "delimiter"),
        ({"lists": {"from_position": 9, "other_columns": True}}, "exactly one of"),
        ({"thousands_separator": ";"}, "thousands separator must differ"),
        ({"optional": ["Недействительные"]}, "cannot be optional"),
    ],
)
def test_a_bad_layout_is_refused_by_name(change: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_layout({**layout_data(), **change}, file="bad.yaml")


def test_missing_field_is_named() -> None:
    data = layout_data()
    del data["invalid_ballots"]
    with pytest.raises(InputError, match="missing field 'invalid_ballots'"):
        parse_layout(data)


def test_totals_lines_the_layout_skips_are_not_stations() -> None:
    """A commission's export often carries a national or regional totals line among the stations: a
    layout's skip_where leaves it out (by a regular expression on one column), and only it."""
    data = native_bytes(
        "Итого;;;;4 620;3 000;2 960;36;1 800;900;260",
        "01;3;0007;Северная;1 520;1 000;980;12;600;300;80",
        "01;;;Всего по области;3 100;2 000;1 980;24;1 200;600;180",
        "02;1;0001;Южная;3 100;2 000;1 980;24;1 200;600;180",
    )
    layout = parse_layout(
        {
            **layout_data(),
            "skip_where": [{"column": "Регион", "matches": "(?i)итого"}, {"column": "УИК", "matches": ""}],
        }
    )
    native = read_native(data, layout)
    assert isinstance(native, NativeFile), native
    assert [r.line for r in native.records] == [4, 6]
    assert precinct_ids_of(native) == ["01-3-0007", "02-1-0001"]
    # Without the rule the totals lines are read as stations (and refused for their empty parts).
    assert [r.line for r in read(data).records] == [3, 4, 5, 6]
    # The rule is part of the layout's content (journaled, hashed); absent, the content is as before.
    assert layout.content["skip_where"][0] == {"column": "Регион", "matches": "(?i)итого"}
    assert "skip_where" not in load_layout(str(LAYOUT_FILE)).content
    with pytest.raises(InputError, match="not a regular expression") as refused:
        parse_layout({**layout_data(), "skip_where": [{"column": "УИК", "matches": "(unclosed"}]})
    assert refused.value.location.column == "skip_where.0.matches"
    missing = parse_layout({**layout_data(), "skip_where": [{"column": "Тип строки", "matches": "итог"}]})
    refusal = read_native(data, missing)
    assert isinstance(refusal, FormatRejection) and refusal.rule == "missing_column"


def test_a_layout_path_is_never_followed_through_a_link(tmp_path: Path) -> None:
    link = tmp_path / "layout.yaml"
    link.symlink_to(LAYOUT_FILE)
    with pytest.raises(InputError) as refused:
        load_layout(str(link))
    assert refused.value.rule == "symlink"


def test_rows_read_with_composed_ids_thousands_and_derived_cast() -> None:
    native = read(native_bytes("01;3;0007;Северная;1 520;1 000;980;12;600;300;80"))
    assert [item.list_id for item in native.lists] == ["zarya", "narodny", "zelenye_party"]
    assert [item.name for item in native.lists] == ["Партия «Заря»", "Народный союз", "Zelenye Party"]
    row = read_row(native, native.records[0])
    assert not isinstance(row, RowFormatProblem)
    assert (row.line, row.precinct_id, row.region, row.region_name) == (3, "01-3-0007", "01", "Северная")
    assert row.counts == {
        "registered_voters": 1520,
        "ballots_issued": 1000,
        "ballots_cast": 992,
        "invalid_ballots": 12,
    }
    assert row.votes == (600, 300, 80)


@pytest.mark.parametrize(
    ("row", "rule", "column", "value"),
    [
        ("01;3;0007;С;1 520,5;1 000;980;12;600;300;80", "decimal_count", "Число избирателей", "1 520,5"),
        ("01;3;0007;С;1520;1000;98O;12;600;300;80", "not_a_whole_number", "Действительные", "98O"),
        ("01;3;0007;С;1520;1000;980;;600;300;80", "missing_value", "Недействительные", ""),
        ("01;;0007;С;1520;1000;980;12;600;300;80", "missing_value", "ТИК", ""),
        ("01;3;0007;С;1520;1000;980;12;600;3,0;80", "decimal_count", "Народный союз", "3,0"),
    ],
)
def test_a_row_the_layout_cannot_read_names_its_column_and_value(
    row: str, rule: str, column: str, value: str
) -> None:
    native = read(native_bytes(row))
    problem = read_row(native, native.records[0])
    assert isinstance(problem, RowFormatProblem)
    assert (problem.row, problem.rule, problem.column, problem.value) == (3, rule, column, value)


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (HEADER.encode("utf-8"), "wrong_encoding"),
        (native_bytes("01;3;1;С;1;1;1;0;1;0;0", header=HEADER.replace(";Zelenye Party", "")), "column_count"),
        (native_bytes("01;3;1;С;1;1;1;0;1;0;0", header=HEADER.replace("ТИК", "ТЕК")), "missing_column"),
        (TITLE.encode("cp1251"), "missing_header"),
        (native_bytes(), "no_data_rows"),
        (b"\x00\x01", "binary_file"),
    ],
)
def test_a_layout_that_does_not_fit_the_file_is_refused_whole(data: bytes, rule: str) -> None:
    refused = read_native(data, load_layout(str(LAYOUT_FILE)))
    assert isinstance(refused, FormatRejection)
    assert refused.rule == rule, refused


def test_protocol_table_has_the_protocol_columns_and_native_line_numbers() -> None:
    native = read(
        native_bytes(
            "01;3;0007;Северная;1 520;1 000;980;12;600;300;80",
            "01;3;0008;Северная;2 000;x;980;12;600;300;80",
            "02;1;0001;Южная;900;700;690;10;1;2",
            "",
            "02;1;0002;Южная;900;700;690;10;400;200;90",
        )
    )
    table = protocol_table(native, election_id="e1", list_ids=["zarya", "narodny", "zelenye_party"])
    assert isinstance(table, RawTable)
    assert table.columns == (
        "election_id",
        "precinct_id",
        "region",
        "registered_voters",
        "ballots_cast",
        "invalid_ballots",
        "ballots_issued",
        "zarya",
        "narodny",
        "zelenye_party",
    )
    assert table.frame["row"].tolist() == [3, 7]
    assert table.frame["precinct_id"].tolist() == ["01-3-0007", "02-1-0002"]
    assert table.frame["ballots_cast"].tolist() == ["992", "700"]
    assert [(p.row, p.rule, p.column) for p in table.row_problems] == [
        (4, "not_a_whole_number", "Выдано бюллетеней"),
        (5, "field_count", None),
    ]
    short = read_native(native_bytes("01;3;0007;С;1;1;1;0;1;0;0"), native.layout)
    assert isinstance(short, NativeFile), short
    assert precinct_ids_of(short) == ["01-3-0007"]


def test_protocol_table_refuses_lists_the_election_does_not_declare() -> None:
    native = read(native_bytes("01;3;0007;Северная;1 520;1 000;980;12;600;300;80"))
    missing = protocol_table(
        native, election_id="e1", list_ids=["zarya", "narodny", "zelenye_party", "other"]
    )
    assert isinstance(missing, FormatRejection) and missing.rule == "missing_column"
    unknown = protocol_table(native, election_id="e1", list_ids=["zarya", "narodny"])
    assert isinstance(unknown, FormatRejection) and unknown.rule == "unknown_column"


def test_protocol_v1_layout_reads_a_protocol_file_with_optional_columns_absent() -> None:
    data = (
        b"election_id,precinct_id,region,registered_voters,ballots_cast,invalid_ballots,amanat,auyl\n"
        b"demo,P-1,north,1520,980,12,700,268\n"
    )
    native = read_native(data, load_layout("protocol-v1"))
    assert isinstance(native, NativeFile)
    table = protocol_table(native, election_id="demo", list_ids=["amanat", "auyl"])
    assert isinstance(table, RawTable)
    assert table.frame[["precinct_id", "ballots_cast", "amanat", "auyl"]].values.tolist() == [
        ["P-1", "980", "700", "268"]
    ]


LONG_LAYOUT = {
    "layout_id": "long-test",
    "precinct_id": "station",
    "region": "region",
    "registered_voters": "registered",
    "ballots_cast": "cast",
    "invalid_ballots": "invalid",
    "lists": {"long": {"list_column": "party", "votes_column": "votes"}, "ids": {"Alpha Party": "alpha"}},
}


def test_a_long_file_is_widened_one_station_a_row_and_its_inconsistent_stations_named() -> None:
    data = "\n".join(
        [
            "station,region,registered,cast,invalid,party,votes",
            "S1,north,1000,600,10,Alpha Party,300",
            "S1,north,1000,600,10,Beta,290",
            "S2,north,800,500,5,Alpha Party,200",
            "S2,north,800,500,5,Beta,295",
            "S3,north,700,400,5,Alpha Party,100",
            "S3,north,701,400,5,Beta,295",
            "S4,south,500,300,0,Alpha Party,300",
            "S5,south,500,300,0,Alpha Party,100",
            "S5,south,500,300,0,Alpha Party,200",
            "",
        ]
    ).encode()
    native = read_native(data, parse_layout(LONG_LAYOUT))
    assert isinstance(native, NativeFile), native
    assert [(i.list_id, i.name) for i in native.lists] == [("alpha", "Alpha Party"), ("beta", "Beta")]
    table = protocol_table(native, election_id="e", list_ids=["alpha", "beta"])
    assert isinstance(table, RawTable)
    assert table.frame[["row", "precinct_id", "alpha", "beta"]].values.tolist() == [
        [2, "S1", "300", "290"],
        [4, "S2", "200", "295"],
    ]
    assert [(p.row, p.rule, p.column, p.value) for p in table.row_problems] == [
        (7, "long_rows_disagree", "registered", "701"),
        (8, "missing_list", "party", "Beta"),
        (10, "duplicate_list", "party", "Alpha Party"),
    ]
