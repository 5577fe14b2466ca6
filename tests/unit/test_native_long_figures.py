"""Native layouts for long files of several contests: a row filter keeping one contest, station
figures carried by records of their own (pseudo-rows), and figures derived from others and the lists."""

from __future__ import annotations

from typing import Any

import pytest

from pipelines.core.errors import InputError
from pipelines.gate.native_declaration import list_kinds
from pipelines.gate.native_layout import layout_from_content, load_layout, parse_layout
from pipelines.gate.native_table import NativeFile, NativeList, protocol_table, read_native, read_row
from pipelines.gate.protocol_format import FormatRejection, RawTable, RowFormatProblem

HEADER = "county,precinct,office,candidate,votes"
# One contest (Governor) among others; its figures are records of their own: registered voters under
# an office of their own, over and under votes as candidates of the contest, ballots cast for some.
LONG = [
    "Adams,P1,Governor,Ann,120",
    "Adams,P1,Governor,Bob,100",
    "Adams,P1,Governor,Over Votes,3",
    "Adams,P1,Governor,Under Votes,2",
    "Adams,P1,Registered Voters,,400",
    "Adams,P1,Ballots Cast,,225",
    "Adams,P1,Senate,Fay,90",
    "Adams,P2,Governor,Ann,30",
    "Adams,P2,Senate,Fay,9",
    "Adams,P2,Governor,Bob,80",
    "Baker,P1,Governor,Ann,10",
    "Baker,P1,Governor,Bob,12",
    "Baker,P1,Registered Voters,,50",
]
LAYOUT: dict[str, Any] = {
    "layout_id": "one-contest",
    "precinct_id": {"columns": ["county", "precinct"], "separator": "/"},
    "region": "county",
    "keep_where": [
        {"column": "office", "matches": "Governor"},
        {"column": "office", "matches": "(?i)registered voters|ballots cast"},
    ],
    "registered_voters": {
        "rows": {"column": "office", "matches": "(?i)registered voters"},
        "otherwise": {"sum_of": ["ballots_cast"]},
    },
    "ballots_cast": {
        "rows": {"column": "office", "matches": "(?i)ballots cast"},
        "otherwise": {"sum_of": ["list_votes", "invalid_ballots"]},
    },
    "invalid_ballots": {"rows": {"matches": "(?i)(over|under) ?votes"}, "otherwise": {"value": 0}},
    "lists": {"long": {"list_column": "candidate", "votes_column": "votes"}},
}


def data(*rows: str) -> bytes:
    return "\n".join([HEADER, *rows, ""]).encode()


def read(rows: list[str], layout: dict[str, Any] | None = None) -> NativeFile:
    native = read_native(data(*rows), parse_layout(layout or LAYOUT))
    assert isinstance(native, NativeFile), native
    return native


def table(native: NativeFile) -> RawTable:
    read_table = protocol_table(native, election_id="e", list_ids=[i.list_id for i in native.lists])
    assert isinstance(read_table, RawTable), read_table
    return read_table


def test_one_contest_is_kept_and_its_figures_come_from_records_or_are_derived() -> None:
    native = read(LONG)
    assert [i.name for i in native.lists] == ["Ann", "Bob"]  # not Fay (Senate), nor the figures
    frame = table(native).frame
    columns = ["row", "precinct_id", "registered_voters", "ballots_cast", "invalid_ballots", "ann", "bob"]
    assert frame[columns].values.tolist() == [
        [2, "Adams/P1", "400", "225", "5", "120", "100"],  # over + under votes summed: 5
        [9, "Adams/P2", "110", "110", "0", "30", "80"],  # no records: cast = lists + 0, registered = cast
        [12, "Baker/P1", "50", "22", "0", "10", "12"],
    ]
    # The column-wise reading and the record-by-record one agree.
    for record in native.records:
        row = read_row(native, record)
        assert not isinstance(row, RowFormatProblem)
        index = frame.index[frame["row"] == record.line][0]
        assert row.counts["ballots_cast"] == int(frame.at[index, "ballots_cast"])
        assert row.counts["registered_voters"] == int(frame.at[index, "registered_voters"])


def test_records_of_other_contests_are_not_read_at_all() -> None:
    """A Senate record broken beyond reading is no problem of the Governor's contest."""
    native = read([*LONG, "Adams,P9,Senate,Gus,x", "Adams,P1,Senate,Gus,not a number"])
    assert not table(native).row_problems
    # ... but a record too short to tell its contest is reported, never dropped unseen.
    short = read([*LONG, "Adams"])
    assert [(p.row, p.rule) for p in table(short).row_problems] == [(15, "field_count")]


@pytest.mark.parametrize(
    ("extra", "line", "rule", "column", "value"),
    [
        ("Adams,P2,Governor,Over Votes,x", 15, "not_a_whole_number", "votes", "x"),
        ("Adams,P2,Registered Voters,,", 15, "missing_value", "votes", ""),
        ("Adams,P2,Governor,Ann,7", 15, "duplicate_list", "candidate", "Ann"),
        ("Adams,P3,Governor,Ann,7", 15, "missing_list", "candidate", "Bob"),
        ("Adams,P2,Governor,Bob,x", 9, "not_a_whole_number", "Bob", "x"),
    ],
)
def test_a_station_that_does_not_fit_names_its_line_column_value_and_rule(
    extra: str, line: int, rule: str, column: str, value: str
) -> None:
    rows = (
        [r for r in LONG if r != "Adams,P2,Governor,Bob,80"]
        if extra.startswith("Adams,P2,Governor,Bob")
        else LONG
    )
    native = read([*rows, extra])
    problems = table(native).row_problems
    assert [(p.row, p.rule, p.column, p.value) for p in problems] == [(line, rule, column, value)]


def test_a_required_figure_without_a_record_or_otherwise_is_a_row_problem() -> None:
    layout = {**LAYOUT, "registered_voters": {"rows": {"column": "office", "matches": "Registered Voters"}}}
    problems = table(read(LONG, layout)).row_problems
    assert [(p.row, p.rule, p.column) for p in problems] == [(9, "missing_figure", "office")]
    assert "registered_voters" in problems[0].message


def test_sum_of_in_a_wide_file_derives_ballots_cast_from_the_lists() -> None:
    layout = parse_layout(
        {
            "layout_id": "wide-sum",
            "precinct_id": "station",
            "region": "region",
            "registered_voters": "registered",
            "ballots_cast": {"sum_of": ["list_votes", "invalid_ballots", "against_all"]},
            "invalid_ballots": "invalid",
            "against_all": "against",
            "lists": {"columns": ["A", "B"]},
        }
    )
    native = read_native(
        b"station,region,registered,invalid,against,A,B\nS1,n,100,3,,40,50\nS2,n,100,1,2,4,x\n", layout
    )
    assert isinstance(native, NativeFile), native
    read_table = protocol_table(native, election_id="e", list_ids=["a", "b"])
    assert isinstance(read_table, RawTable)
    assert read_table.frame["ballots_cast"].tolist() == ["93"]  # 40 + 50 + 3, against all left empty: 0
    (problem,) = read_table.row_problems
    assert (problem.row, problem.rule, problem.column, problem.value) == (3, "not_a_whole_number", "B", "x")
    assert "a part of list_votes+invalid_ballots+against_all" in problem.message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ballots_cast": {"sum_of": ["ballots_cast"]}}, "part of itself"),
        (
            {
                "registered_voters": {"sum_of": ["ballots_cast"]},
                "ballots_cast": {"sum_of": ["registered_voters"]},
            },
            "part of itself",
        ),
        ({"invalid_ballots": {"value": -1}}, "invalid_ballots"),
        ({"invalid_ballots": {"rows": {"matches": "(over"}}}, "not a regular expression"),
        ({"lists": {"columns": ["A"]}}, "only in long form"),
        ({"keep_where": []}, "keep_where"),
    ],
)
def test_a_bad_new_field_is_refused_by_name(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_layout({**LAYOUT, **change}, file="bad.yaml")


def test_new_fields_are_in_the_content_and_absent_ones_leave_old_contents_unchanged() -> None:
    layout = parse_layout(LAYOUT)
    assert layout.content["keep_where"][0] == {"column": "office", "matches": "Governor"}
    # rows.column defaults to the list column, spelled out in the content
    assert layout.content["invalid_ballots"] == {
        "rows": [{"column": "candidate", "matches": "(?i)(over|under) ?votes"}],
        "otherwise": {"value": 0},
    }
    assert (
        parse_layout({**LAYOUT, "invalid_ballots": layout.content["invalid_ballots"]}).sha256 == layout.sha256
    )
    # The shipped protocol-v1 layout's content and SHA-256, as journaled before these fields existed.
    protocol_v1 = load_layout("protocol-v1")
    assert "keep_where" not in protocol_v1.content
    assert protocol_v1.sha256 == "d8c22ce43912e1d817286eab4f73cc370d405911f64a0dfa1cd498d5e09a76bc"


def test_a_keep_where_column_the_file_lacks_refuses_the_file() -> None:
    layout = parse_layout({**LAYOUT, "keep_where": [{"column": "contest", "matches": "Governor"}]})
    refused = read_native(data(*LONG), layout)
    assert isinstance(refused, FormatRejection) and refused.rule == "missing_column"


def test_a_layout_extends_a_shipped_one_and_its_content_is_the_whole_layout() -> None:
    extended = parse_layout(
        {"layout_id": "oe-governor", "extends": "openelections", "keep_where": LAYOUT["keep_where"]}
    )
    shipped = load_layout("openelections")
    assert "extends" not in extended.content
    assert extended.content == {
        **shipped.content,
        "layout_id": "oe-governor",
        "keep_where": LAYOUT["keep_where"],
    }
    assert layout_from_content(extended.content, extended.sha256) == extended  # replays without the file
    with pytest.raises(InputError, match="extends names no shipped layout") as refused:
        parse_layout({"layout_id": "x", "extends": "no-such-layout"}, file="mine.yaml")
    assert refused.value.location.column == "extends"


def test_long_options_at_their_defaults_leave_the_content_as_before() -> None:
    plain = parse_layout(LAYOUT)
    spelled = {
        **LAYOUT,
        "lists": {"long": {**LAYOUT["lists"]["long"], "agree": "all", "missing_list": "problem"}},
    }
    assert parse_layout(spelled).sha256 == plain.sha256
    assert plain.content["lists"] == {"long": {"list_column": "candidate", "votes_column": "votes"}}


def test_lists_a_station_omits_count_zero_and_unread_columns_may_differ_when_the_layout_says_so() -> None:
    rows = [*LONG, "Baker,P2,Governor,Ann,5"]  # no record of Bob at Baker/P2
    assert [p.rule for p in table(read(rows)).row_problems] == ["missing_list"]
    lenient = {**LAYOUT, "lists": {"long": {**LAYOUT["lists"]["long"], "missing_list": "zero"}}}
    frame = table(read(rows, lenient)).frame
    assert frame.loc[frame["precinct_id"] == "Baker/P2", ["ann", "bob", "ballots_cast"]].values.tolist() == [
        ["5", "0", "5"]
    ]
    # A party column differing per candidate: a disagreement unless only the columns read must agree.
    header = "county,precinct,office,candidate,party,votes"
    parties = ["Adams,P1,Governor,Ann,DEM,1", "Adams,P1,Governor,Bob,REP,2"]
    strict = read_native("\n".join([header, *parties]).encode(), parse_layout(LAYOUT))
    assert isinstance(strict, NativeFile) and [p.rule for p in strict.problems] == ["long_rows_disagree"]
    named = {**LAYOUT, "lists": {"long": {**LAYOUT["lists"]["long"], "agree": "named"}}}
    agreed = read_native("\n".join([header, *parties]).encode(), parse_layout(named))
    assert isinstance(agreed, NativeFile) and not agreed.problems and len(agreed.records) == 1


def test_list_kinds_by_name_or_id_and_the_refusals() -> None:
    lists = [NativeList("alpha", "Alpha Party", 5), NativeList("left_union", "Left Union", 6)]

    def kinds(given: dict[str, str]) -> list[str]:
        data = {**LAYOUT, "lists": {**LAYOUT["lists"], "kinds": given}}
        return list_kinds(lists, parse_layout(data))

    assert kinds({"Left Union": "coalition"}) == ["party", "coalition"]
    assert kinds({"alpha": "minority", "left_union": "coalition"}) == ["minority", "coalition"]
    with pytest.raises(InputError, match="names 'Right Union'") as refused:
        kinds({"Right Union": "coalition"})
    assert (refused.value.rule, refused.value.location.column) == ("unknown_list", "lists.kinds")
    with pytest.raises(InputError, match="two kinds"):
        kinds({"alpha": "minority", "Alpha Party": "coalition"})
    with pytest.raises(InputError, match="lists"):
        kinds({"alpha": "Coalition!"})  # not a kind's name
    assert "kinds" not in parse_layout(LAYOUT).content["lists"]


def test_a_figure_is_read_from_records_any_of_its_rules_matches() -> None:
    """Registered voters as an office of their own in one county, as a candidate of the contest in
    another: two rules, one figure, and neither record is a list."""
    either = [
        {"column": "office", "matches": "Registered Voters"},
        {"column": "candidate", "matches": "Registered"},
    ]
    layout = {**LAYOUT, "registered_voters": {"rows": either}}
    native = read([*LONG, "Adams,P2,Governor,Registered,300"], layout)
    assert [i.name for i in native.lists] == ["Ann", "Bob"]
    frame = table(native).frame
    assert frame[["precinct_id", "registered_voters"]].values.tolist() == [
        ["Adams/P1", "400"],
        ["Adams/P2", "300"],
        ["Baker/P1", "50"],
    ]


# Two columns together: the Governor's records whose votes start with a 1.
ALL_KEEP = [{"all": [{"column": "office", "matches": "Governor"}, {"column": "votes", "matches": "1[0-9]*"}]}]


def test_an_all_item_keeps_or_skips_the_records_meeting_every_condition() -> None:
    kept = table(read(LONG, {**LAYOUT, "keep_where": ALL_KEEP})).frame
    columns = ["precinct_id", "registered_voters", "invalid_ballots", "ann", "bob"]
    assert kept[columns].values.tolist() == [
        ["Adams/P1", "220", "0", "120", "100"],
        ["Baker/P1", "22", "0", "10", "12"],
    ]
    skip = [{"all": [{"column": "office", "matches": "Governor"}, {"column": "votes", "matches": "2"}]}]
    skipped = table(read(LONG, {**LAYOUT, "skip_where": skip})).frame
    assert skipped["invalid_ballots"].tolist() == ["3", "0", "0"]  # the under votes' 2 records skipped
    # A record too short for one of the item's columns is kept, so it is reported, not dropped unseen.
    short = read([*LONG, "Adams,P3,Senate,Fay"], {**LAYOUT, "keep_where": ALL_KEEP})
    assert [p.rule for p in short.problems] == ["field_count"]
    layout = parse_layout({**LAYOUT, "keep_where": ALL_KEEP})
    assert layout.content["keep_where"] == ALL_KEEP
    assert layout_from_content(layout.content, layout.sha256) == layout


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"keep_where": [{"all": []}]}, "keep_where.0"),
        (
            {"skip_where": [{"column": "office", "matches": "x"}, {"all": [{"column": "office"}]}]},
            "skip_where.1",
        ),
        (
            {"keep_where": [{"all": [{"column": "office", "matches": "x"}], "column": "votes"}]},
            "keep_where.0",
        ),
        ({"keep_where": [{"all": [{"column": "office", "matches": "(x"}]}]}, "keep_where.0.all.0.matches"),
    ],
)
def test_a_bad_all_item_is_refused_naming_the_item(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_layout({**LAYOUT, **change}, file="bad.yaml")
    assert refused.value.location.column == field
    assert "\n" not in str(refused.value)
