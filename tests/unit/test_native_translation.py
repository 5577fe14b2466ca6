"""The column-wise translation of a native file gives the table and problems the per-row reader gives.

`protocol_table` reads a file column by column and hands only the records it cannot read to
`read_row`; the oracle here is the record-by-record translation it replaced, built on `read_row`
alone. Random records with random defects (empty, decimal, signed, spaced, huge, non-numeric counts;
empty id parts; records that do not line up; optional figures left empty) must come out alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.core.paths import REPO_ROOT
from pipelines.gate.native_layout import NativeLayout, load_layout, parse_layout
from pipelines.gate.native_table import (
    NativeFile,
    count_of,
    id_parts,
    protocol_table,
    read_native,
    read_row,
    stations,
)
from pipelines.gate.protocol_format import FormatRejection, RawTable, RowFormatProblem, text_table

COMMISSION = load_layout(str(REPO_ROOT / "examples" / "native" / "commission-cp1251.yaml"))
PROTOCOL_V1 = load_layout("protocol-v1")
COMMISSION_HEADER = (
    "Регион;ТИК;УИК;Название региона;Число избирателей;Выдано бюллетеней;Действительные;Недействительные;"
    "Партия «Заря»;Народный союз;Zelenye Party"
)
V1_HEADER = (
    "election_id,precinct_id,region,registered_voters,ballots_issued,ballots_cast,invalid_ballots,"
    "against_all,version,reason,a,b"
)


def per_row_table(native: NativeFile, *, election_id: str, list_ids: Sequence[str]) -> RawTable:
    """The translation record by record, as it was before it went column-wise: the oracle."""
    found = [item.list_id for item in native.lists]
    present = native.counts_present
    optional = [n for n in ("ballots_issued", "against_all") if n in present]
    amendments = ["version", "reason"] if native.has(native.layout.version) else []
    figures = ["registered_voters", "ballots_cast", "invalid_ballots", *optional]
    columns = ["election_id", "precinct_id", "region", *figures, *amendments, *list_ids]
    cells: dict[str, list[str]] = {name: [] for name in columns}
    lines: list[int] = []
    problems = list(native.problems)
    order = [found.index(i) for i in list_ids]
    for record in native.records:
        row = read_row(native, record)
        if isinstance(row, RowFormatProblem):
            problems.append(row)
            continue
        lines.append(row.line)
        cells["election_id"].append(election_id)
        cells["precinct_id"].append(row.precinct_id)
        cells["region"].append(row.region)
        for name in figures:
            cells[name].append(str(row.counts[name]) if name in row.counts else "")
        if amendments:
            cells["version"].append(row.version)
            cells["reason"].append(row.reason)
        for list_id, index in zip(list_ids, order, strict=True):
            cells[list_id].append(str(row.votes[index]))
    texts = [pa.array(cells[name], type=pa.large_string()) for name in columns]
    problems.sort(key=lambda p: p.row)
    table = text_table(np.array(lines, dtype=np.int64), columns, texts)
    return RawTable("protocol", tuple(columns), table, tuple(problems), False, "none")


COUNT = st.one_of(
    st.integers(0, 2_000_000).map(str),
    st.integers(1_000, 2_000_000).map(lambda n: f"{n:,}".replace(",", " ")),
    st.integers(1_000, 99_999).map(lambda n: f"{n:,}".replace(",", "\u00a0")),
    st.integers(-50, 50).map(lambda n: f"{n:+d}"),
    st.integers(10**19, 10**25).map(str),
    st.sampled_from(["", " ", "1,5", "n/a", " 12 ", "0", "007", "1.5", "№1", "1 2", "--1", "+"]),
)
ID_PART = st.one_of(st.sampled_from(["01", "3", "0001", " 7 ", "Z"]), st.sampled_from(["", "  "]))
TEXT = st.sampled_from(["", "2", " amended ", "x"])


def _cells(draw: st.DrawFn, strategies: Sequence[st.SearchStrategy[str]], separator: str) -> str:
    cells = [draw(s) for s in strategies]
    if draw(st.integers(0, 19)) == 0:  # now and then a record that does not line up
        cells = cells[:-1] if draw(st.booleans()) else [*cells, "1"]
    return separator.join(cells)


@st.composite
def commission_file(draw: st.DrawFn) -> bytes:
    rows = [
        _cells(draw, [ID_PART, ID_PART, ID_PART, st.sampled_from(["Обл", "", " "]), *[COUNT] * 7], ";")
        for _ in range(draw(st.integers(1, 25)))
    ]
    return "\r\n".join(["Итоги;;;;;;;;;;", COMMISSION_HEADER, *rows, ""]).encode("cp1251")


@st.composite
def protocol_v1_file(draw: st.DrawFn) -> bytes:
    cells = [st.just("e"), ID_PART, ID_PART, *[COUNT] * 5, TEXT, TEXT, COUNT, COUNT]
    rows = [_cells(draw, cells, ",") for _ in range(draw(st.integers(1, 25)))]
    return "\n".join([V1_HEADER, *rows, ""]).encode("utf-8")


def assert_alike(data: bytes, layout: NativeLayout, list_ids: Sequence[str] | None = None) -> None:
    """The column-wise translation equals the per-row one; `list_ids` by default the file's own lists."""
    native = read_native(data, layout)
    if isinstance(native, FormatRejection):
        return  # no data rows left, or the like: nothing to translate
    if list_ids is None:
        list_ids = [item.list_id for item in native.lists]
    fast = protocol_table(native, election_id="e1", list_ids=list_ids)
    oracle = per_row_table(native, election_id="e1", list_ids=list_ids)
    assert isinstance(fast, RawTable)
    assert fast.columns == oracle.columns
    assert fast.row_problems == oracle.row_problems
    assert fast.cells.schema == oracle.cells.schema and fast.cells.equals(oracle.cells)
    pd.testing.assert_frame_equal(fast.frame, oracle.frame)


@settings(max_examples=40, deadline=None)
@given(commission_file())
def test_commission_layout_translates_as_the_per_row_reader(data: bytes) -> None:
    assert_alike(data, COMMISSION, ["zarya", "narodny", "zelenye_party"])


@settings(max_examples=40, deadline=None)
@given(protocol_v1_file())
def test_protocol_v1_layout_translates_as_the_per_row_reader(data: bytes) -> None:
    assert_alike(data, PROTOCOL_V1, ["b", "a"])


@settings(max_examples=40, deadline=None)
@given(commission_file())
def test_stations_read_column_wise_are_the_records_read_one_by_one(data: bytes) -> None:
    native = read_native(data, COMMISSION)
    if isinstance(native, FormatRejection):
        return
    read = stations(native)
    for n, record in enumerate(native.records):
        parts = id_parts(native, record)
        registered = count_of(native, record, "registered_voters")
        unread = isinstance(parts, RowFormatProblem) or isinstance(registered, RowFormatProblem)
        assert read.unread[n] == unread
        if not unread:
            assert parts == (read.precinct_ids[n], read.regions[n], read.region_names[n])
            assert registered == read.registered_voters[n]


# Figures derived from the lists and other figures, a fixed one, an optional part left empty.
DERIVED = parse_layout(
    {
        "layout_id": "derived",
        "precinct_id": "station",
        "region": "region",
        "registered_voters": {"sum_of": ["ballots_cast", "against_all"]},
        "ballots_cast": {"sum_of": ["list_votes", "invalid_ballots", "against_all"]},
        "invalid_ballots": {"sum": ["spoiled", "blank"]},
        "against_all": "against",
        "ballots_issued": {"value": 7},
        "lists": {"columns": ["a", "b"]},
    }
)
# One contest of a long file, its figures records of their own, else derived.
LONG_FIGURES = parse_layout(
    {
        "layout_id": "long-figures",
        "precinct_id": "precinct",
        "region": "county",
        "keep_where": [{"column": "office", "matches": "Governor|Registered"}],
        "registered_voters": {
            "rows": {"column": "office", "matches": "Registered"},
            "otherwise": {"sum_of": ["ballots_cast"]},
        },
        "ballots_cast": {"sum_of": ["list_votes", "invalid_ballots"]},
        "invalid_ballots": {"rows": {"matches": "Over"}, "otherwise": "spoiled"},
        "lists": {"long": {"list_column": "candidate", "votes_column": "votes"}},
    }
)

# The same, its filters `all` items: two columns together, one the last (a short record lacks it).
LONG_FIGURES_ALL = parse_layout(
    {
        **LONG_FIGURES.content,
        "layout_id": "long-figures-all",
        "keep_where": [
            {
                "all": [
                    {"column": "office", "matches": "Governor"},
                    {"column": "candidate", "matches": "Ann|Over"},
                ]
            },
            {"column": "office", "matches": "Registered"},
            {"all": [{"column": "office", "matches": "Senate"}, {"column": "spoiled", "matches": "[0-9]*"}]},
        ],
        "skip_where": [
            {"all": [{"column": "candidate", "matches": "Cy"}, {"column": "spoiled", "matches": "0"}]}
        ],
    }
)


@st.composite
def derived_file(draw: st.DrawFn) -> bytes:
    rows = [_cells(draw, [ID_PART, ID_PART, *[COUNT] * 5], ",") for _ in range(draw(st.integers(1, 25)))]
    return "\n".join(["station,region,spoiled,blank,against,a,b", *rows, ""]).encode()


@st.composite
def long_figures_file(draw: st.DrawFn) -> bytes:
    """Stations of mostly whole records: the contest's lists, now and then an over-votes or a
    registered-voters record, another contest's record, a defective count or record."""
    good = st.integers(0, 900).map(str)
    votes = st.one_of(good, good, good, good, COUNT)
    kinds = [
        ("Governor", "Ann"),
        ("Governor", "Bob"),
        ("Governor", "Over"),
        ("Registered", ""),
        ("Senate", "Cy"),
    ]
    rows = []
    for precinct in range(draw(st.integers(1, 8))):
        spoiled = draw(votes)  # a station's own column, the same on each of its records
        for office, candidate in kinds:
            if draw(st.integers(0, 9)) < (9 if candidate in ("Ann", "Bob") else 4):
                cells = [
                    st.just("C"),
                    st.just(f"P{precinct}"),
                    st.just(office),
                    st.just(candidate),
                    votes,
                    st.just(spoiled),
                ]
                rows.append(_cells(draw, cells, ","))
    return "\n".join(["county,precinct,office,candidate,votes,spoiled", *rows, ""]).encode()


@settings(max_examples=40, deadline=None)
@given(derived_file())
def test_derived_figures_translate_as_the_per_row_reader(data: bytes) -> None:
    assert_alike(data, DERIVED, ["a", "b"])


@settings(max_examples=40, deadline=None)
@given(long_figures_file())
def test_figures_of_their_own_records_translate_as_the_per_row_reader(data: bytes) -> None:
    assert_alike(data, LONG_FIGURES)


@settings(max_examples=40, deadline=None)
@given(long_figures_file())
def test_records_kept_by_all_items_translate_as_the_per_row_reader(data: bytes) -> None:
    assert_alike(data, LONG_FIGURES_ALL)
