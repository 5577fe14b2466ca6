"""Reading a commission's own CSV through its layout: the file as records, each record as a protocol.

`read_native` checks that the layout fits the file as a whole (encoding, header, the columns it names)
and refuses it otherwise (a `FormatRejection`, before any row is looked at); `read_row` reads one record
or says, naming the file's own column and the raw value, why it cannot. `protocol_table` turns a native
file into the table the protocol-v1 reader gives, so the gate's rules, decisions and events are those of
any protocol file; the rows keep the native file's line numbers.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines.domain.election import ElectionDeclaration
from pipelines.gate.native_layout import (
    COUNT_FIELDS,
    LIST_VOTES,
    REQUIRED_COUNTS,
    ColumnRef,
    CountSource,
    NativeLayout,
)
from pipelines.gate.protocol_format import FormatRejection, RawTable, RowFormatProblem, text_table

# Counts are whole numbers: digits, optionally signed (a negative count is the gate's to refuse).
_WHOLE = re.compile(r"[+-]?[0-9]+")
# An item of skip_where or keep_where with its columns found: (position, pattern) each to be met.
Conditions = list[tuple[int, re.Pattern[str]]]
# A space as thousands separator is also written as a no-break or narrow no-break space.
_SPACES = ("\u00a0", "\u202f")
LAYOUT_MISFIT = "layout_mismatch"


@dataclass(frozen=True)
class NativeList:
    list_id: str
    name: str  # the header text
    position: int  # 0-based column


class NativeRecord(NamedTuple):
    line: int  # where the record starts (the file's first line is 1)
    fields: tuple[str, ...]


@dataclass(frozen=True)
class NativeRow:
    """One record read as a protocol: composed ids, whole-number figures, votes in the lists' order."""

    line: int
    precinct_id: str
    region: str
    region_name: str
    counts: dict[str, int]  # by protocol column; optional figures only when given
    votes: tuple[int, ...]
    version: str
    reason: str


@dataclass(frozen=True)
class Figure:
    """A figure as one file gives it: the sum of the cells at `positions`, of other figures (`parts`,
    each with whether it is optional: left empty, it counts 0) and a fixed `value`; where every cell
    at `positions` is empty, what `otherwise` gives."""

    label: str  # how a problem names what the cell is a part of: "Valid+Invalid", "list_votes+..."
    positions: tuple[int, ...] = ()
    parts: tuple[tuple[Figure, bool], ...] = ()
    value: int = 0
    otherwise: Figure | None = None

    @property
    def derived(self) -> bool:
        return len(self.positions) + len(self.parts) > 1

    @property
    def plain(self) -> bool:
        """One column, as it stands."""
        return len(self.positions) == 1 and not self.parts and not self.value and self.otherwise is None

    def all_positions(self) -> set[int]:
        found = set(self.positions)
        for part, _ in self.parts:
            found |= part.all_positions()
        return found | (self.otherwise.all_positions() if self.otherwise is not None else set())


@dataclass(frozen=True)
class NativeFile:
    layout: NativeLayout
    header: tuple[str, ...]
    positions: dict[ColumnRef, int]  # every column the layout names -> its 0-based position
    lists: tuple[NativeList, ...]
    records: tuple[NativeRecord, ...]
    problems: tuple[RowFormatProblem, ...]  # records that cannot be lined up with the header
    # Long form: the column (after the lists') holding each figure its station's records carry.
    row_figures: Mapping[str, int] = field(default_factory=dict)

    def column_name(self, position: int) -> str:
        return self.header[position] or f"column {position + 1}"

    def has(self, ref: ColumnRef | None) -> bool:
        """Whether the file has this named column (an optional one may be missing)."""
        return ref is not None and ref in self.positions

    @cached_property
    def figures(self) -> dict[str, Figure]:
        """The figures this file gives (those whose every column it has), as it gives them."""
        resolved: dict[str, Figure] = {}
        for name in COUNT_FIELDS:
            source = self.layout.counts.get(name)
            figure = None if source is None else resolved.get(name) or self._figure(name, source, resolved)
            if figure is not None:
                resolved[name] = figure
        return resolved

    def _figure(self, name: str, source: CountSource, resolved: dict[str, Figure]) -> Figure | None:
        if source.rows:
            if name not in self.row_figures:
                return None
            otherwise = None if source.otherwise is None else self._figure(name, source.otherwise, resolved)
            return Figure(name, (self.row_figures[name],), otherwise=otherwise)
        if source.sum_of:
            parts: list[tuple[Figure, bool]] = []
            for term in source.sum_of:
                if term == LIST_VOTES:
                    parts.append((Figure(LIST_VOTES, tuple(i.position for i in self.lists)), False))
                    continue
                if term not in resolved and term in self.layout.counts:  # sum_of has no cycle
                    part = self._figure(term, self.layout.counts[term], resolved)
                    if part is not None:
                        resolved[term] = part
                if term in resolved:  # else an optional figure the file lacks: 0
                    parts.append((resolved[term], term not in REQUIRED_COUNTS))
            return Figure("+".join(source.sum_of), parts=tuple(parts))
        if source.value is not None:
            return Figure(str(source.value), value=source.value)
        if not all(self.has(c) for c in source.columns):
            return None
        label = "+".join(map(str, source.columns))
        return Figure(label, tuple(self.positions[c] for c in source.columns))

    @property
    def counts_present(self) -> tuple[str, ...]:
        """The figures this file gives: those whose every column it has."""
        return tuple(self.figures)

    def whole_number(self, raw: str) -> int | tuple[str, str]:
        """A count cell as an int, or (rule, message) when it is none."""
        return _whole_number(raw, self.layout.thousands_separator, self.layout.decimal_separator)


def _records(text: str, layout: NativeLayout) -> list[NativeRecord] | FormatRejection:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=layout.delimiter, quotechar=layout.quote)
    records: list[NativeRecord] = []
    try:
        start = 1
        for fields in reader:
            if "".join(fields).strip():  # blank lines, and records of blank cells, are no records
                records.append(NativeRecord(start, tuple(fields)))
            start = reader.line_num + 1
    except csv.Error as exc:
        return FormatRejection("unparseable_csv", f"line {reader.line_num}: {exc}")
    return records


def _decode(data: bytes, layout: NativeLayout) -> str | FormatRejection:
    if b"\x00" in data:
        return FormatRejection("binary_file", "the file holds NUL bytes: not a text export")
    try:
        text = data.decode(layout.encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return FormatRejection(
            "wrong_encoding",
            f"line {line}: byte 0x{data[exc.start]:02x} is not {layout.encoding}, the layout's encoding",
        )
    return text.removeprefix("\ufeff")


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    if slug and not slug[0].isalpha():
        slug = f"list_{slug}"
    return slug[:64]


def _resolve(header: Sequence[str], ref: ColumnRef) -> int | str:
    """The 0-based position of a column, or why the header has no such column."""
    if isinstance(ref, int):
        if ref > len(header):
            return f"the layout names column {ref} but the header has {len(header)} columns"
        return ref - 1
    found = [n for n, name in enumerate(header) if name == ref]
    if not found:
        return f"the header has no column {ref!r}"
    if len(found) > 1:
        return f"the header has column {ref!r} {len(found)} times"
    return found[0]


def _list_positions(header: Sequence[str], layout: NativeLayout, named: set[int]) -> list[int] | str:
    rule = layout.lists
    if rule.columns:
        positions: list[int] = []
        for ref in rule.columns:
            found = _resolve(header, ref)
            if isinstance(found, str):
                return found
            positions.append(found)
        return positions
    if rule.from_position is not None:
        last = rule.to_position or len(header)
        if last > len(header) or rule.from_position > len(header):
            return f"the layout's lists end at column {last} but the header has {len(header)} columns"
        return list(range(rule.from_position - 1, last))
    return [n for n in range(len(header)) if n not in named]


def _lists(names: Sequence[str], layout: NativeLayout, positions: Sequence[int]) -> tuple[NativeList, ...]:
    ids = layout.lists.ids or {}
    out = []
    for order, (name, position) in enumerate(zip(names, positions, strict=True), start=1):
        list_id = ids.get(name) or _slug(name) or f"list_{order}"
        out.append(NativeList(list_id, name, position))
    return tuple(out)


def read_native(data: bytes, layout: NativeLayout) -> NativeFile | FormatRejection:
    """The file's header, lists and records, or why the layout does not fit the file."""
    text = _decode(data, layout)
    if isinstance(text, FormatRejection):
        return text
    records = _records(text, layout)
    if isinstance(records, FormatRejection):
        return records
    if len(records) <= layout.skip_rows:
        return FormatRejection(
            "missing_header",
            f"{len(records)} record(s), but the layout skips {layout.skip_rows} before its header",
        )
    head = records[layout.skip_rows]
    header = tuple(cell.strip() for cell in head.fields)
    if layout.column_count is not None and len(header) != layout.column_count:
        return FormatRejection(
            "column_count",
            f"line {head.line}: the header has {len(header)} columns, the layout {layout.column_count}",
        )
    positions: dict[ColumnRef, int] = {}
    for ref in layout.named_columns():
        found = _resolve(header, ref)
        if isinstance(found, str) and ref in layout.optional and found.startswith("the header has no"):
            continue
        if isinstance(found, str):
            return FormatRejection("missing_column", f"line {head.line}: {found}")
        positions[ref] = found
    skips: list[Conditions] = []
    keeps: list[Conditions] = []
    for items, out in ((layout.skip_where, skips), (layout.keep_where, keeps)):
        for item in items:
            conditions: Conditions = []
            for rule in item.conditions:
                found = _resolve(header, rule.column)
                if isinstance(found, str):
                    return FormatRejection("missing_column", f"line {head.line}: {found}")
                conditions.append((found, rule.matches))
            out.append(conditions)
    body = records[layout.skip_rows + 1 :]
    if keeps:
        body = [r for r in body if _kept(r.fields, keeps)]
    if skips:
        body = [r for r in body if not _not_a_station(r.fields, skips)]
    if not body:
        return FormatRejection("no_data_rows", "the file has a header but no data rows")
    width = len(header)
    good = [r for r in body if len(r.fields) == width]
    problems = [
        RowFormatProblem(
            r.line,
            "field_count",
            f"{len(r.fields)} fields where the header has {width}",
            layout.delimiter.join(r.fields)[:200],
        )
        for r in body
        if len(r.fields) != width
    ]
    if layout.lists.long_list is not None:
        return _widened(NativeFile(layout, header, positions, (), tuple(good), tuple(problems)))
    named = {*positions.values(), *(n for item in (*skips, *keeps) for n, _ in item)}
    list_positions = _list_positions(header, layout, named)
    if isinstance(list_positions, str):
        return FormatRejection("missing_column", f"line {head.line}: {list_positions}")
    lists = _lists([header[n] for n in list_positions], layout, list_positions)
    clash = sorted({n for n in list_positions if n in positions.values()})
    if clash:
        return FormatRejection(
            LAYOUT_MISFIT, f"column {header[clash[0]]!r} is both a list and a figure in the layout"
        )
    refused = _ids_clash(lists)
    if refused is not None:
        return refused
    return NativeFile(layout, header, positions, lists, tuple(good), tuple(problems))


def _not_a_station(fields: Sequence[str], skips: Sequence[Conditions]) -> bool:
    """Whether the layout's skip_where says this record is not a station (a totals line)."""
    return any(
        all(n < len(fields) and pattern.fullmatch(fields[n].strip()) for n, pattern in item) for item in skips
    )


def _kept(fields: Sequence[str], keeps: Sequence[Conditions]) -> bool:
    """Whether the layout's keep_where keeps this record; one too short to tell (short of any column
    an item reads) is kept, so that it is reported (field_count) rather than dropped unseen."""
    return any(
        any(n >= len(fields) for n, _ in item)
        or all(pattern.fullmatch(fields[n].strip()) for n, pattern in item)
        for item in keeps
    )


def _ids_clash(lists: Sequence[NativeList]) -> FormatRejection | None:
    if not lists:
        return FormatRejection("missing_column", "the layout finds no list")
    seen: dict[str, str] = {}
    for item in lists:
        if item.list_id in seen:
            return FormatRejection(
                LAYOUT_MISFIT,
                f"lists {seen[item.list_id]!r} and {item.name!r} both get list id {item.list_id!r}: "
                "name them in the layout's lists.ids",
            )
        seen[item.list_id] = item.name
    return None


def _widened(long: NativeFile) -> NativeFile | FormatRejection:
    """A long file (one record per station and list) as a wide one: one record per station, at its
    first list record's line, its lists' votes as columns after the file's own, then the figures its
    records carry (the layout's `rows`: their votes summed, "" when it has none). A station whose
    records disagree on a figure, name a list twice or lack one, a figure's record whose votes are no
    whole number, or a required figure with no record and no `otherwise`, is a row problem and left
    out."""
    layout = long.layout
    assert layout.lists.long_list is not None and layout.lists.long_votes is not None
    name_at, votes_at = long.positions[layout.lists.long_list], long.positions[layout.lists.long_votes]
    key_at = [long.positions[ref] for ref in layout.precinct_columns]
    by_rows = [
        (name, [(long.positions[rule.column], rule.matches) for rule in source.rows])
        for name, source in layout.counts.items()
        if source.rows and all(long.has(rule.column) for rule in source.rows)
    ]

    def carries(record: NativeRecord) -> str | None:
        """The figure this record carries, if any (it is then no list's)."""
        fields = record.fields
        for name, rules in by_rows:
            if any(pattern.fullmatch(fields[at].strip()) for at, pattern in rules):
                return name
        return None

    stations: dict[tuple[str, ...], list[tuple[NativeRecord, str | None]]] = {}
    for record in long.records:
        key = tuple(record.fields[n].strip() for n in key_at)
        stations.setdefault(key, []).append((record, carries(record) if by_rows else None))
    names = list(
        dict.fromkeys(r.fields[name_at].strip() for rows in stations.values() for r, f in rows if f is None)
    )
    width = len(long.header)
    lists = _lists(names, layout, range(width, width + len(names)))
    refused = _ids_clash(lists)
    if refused is not None:
        return refused
    figures = [name for name, _ in by_rows]
    if layout.lists.long_agree_named:
        same = sorted({long.positions[c] for c in layout.read_columns() if long.has(c)} - {name_at, votes_at})
    else:
        same = [n for n in range(width) if n not in (name_at, votes_at)]
    problems = list(long.problems)
    wide: list[NativeRecord] = []
    for rows in stations.values():
        listed = [record for record, figure in rows if figure is None]
        first = listed[0] if listed else rows[0][0]
        problem = _station_problem(long, first, listed, name_at, same)
        votes = {r.fields[name_at].strip(): r.fields[votes_at] for r in listed}
        carried: dict[str, int] = {}
        for record, figure in rows:
            if problem is not None or figure is None:
                continue
            value = long.whole_number(record.fields[votes_at])
            if isinstance(value, tuple):
                rule, message = value
                raw, column = record.fields[votes_at], long.column_name(votes_at)
                message = f"{message} (a record of {figure})"
                problem = RowFormatProblem(record.line, rule, message, raw, column)
            else:
                carried[figure] = carried.get(figure, 0) + value
        missing = [n for n in names if n not in votes]
        if layout.lists.long_missing_zero:
            votes.update(dict.fromkeys(missing, "0"))
        elif problem is None and missing:
            problem = RowFormatProblem(
                first.line,
                "missing_list",
                "the station has no record of this list",
                missing[0],
                long.column_name(name_at),
            )
        if problem is None:
            problem = _missing_figure(long, first, [n for n, _ in by_rows if n not in carried])
        if problem is not None:
            problems.append(problem)
            continue
        cells = (*(votes[n] for n in names), *(str(carried[f]) if f in carried else "" for f in figures))
        wide.append(NativeRecord(first.line, (*first.fields, *cells)))
    header = (*long.header, *names, *figures)
    row_figures = {name: width + len(names) + n for n, name in enumerate(figures)}
    return NativeFile(layout, header, long.positions, lists, tuple(wide), tuple(problems), row_figures)


def _station_problem(
    long: NativeFile, first: NativeRecord, listed: Sequence[NativeRecord], name_at: int, same: Sequence[int]
) -> RowFormatProblem | None:
    """Whether a station's list records disagree on a column they must agree on (`same`), or name a
    list twice."""
    seen: set[str] = set()
    for row in listed:
        differs = next((n for n in same if row.fields[n].strip() != first.fields[n].strip()), None)
        name = row.fields[name_at].strip()
        if differs is not None:
            message = (
                f"the station's records disagree: {first.fields[differs].strip()!r} on line {first.line}"
            )
            return RowFormatProblem(
                row.line, "long_rows_disagree", message, row.fields[differs], long.column_name(differs)
            )
        if name in seen:
            message = "the station names this list twice"
            return RowFormatProblem(row.line, "duplicate_list", message, name, long.column_name(name_at))
        seen.add(name)
    return None


def _missing_figure(long: NativeFile, first: NativeRecord, absent: Sequence[str]) -> RowFormatProblem | None:
    """A required figure a station has no record of, when the layout says no `otherwise`."""
    for name in absent:
        source = long.layout.counts[name]
        if name in REQUIRED_COUNTS and source.otherwise is None and source.rows:
            at = long.positions[source.rows[0].column]
            patterns = " or ".join(repr(rule.matches.pattern) for rule in source.rows)
            message = f"the station has no record of {name} (matching {patterns})"
            return RowFormatProblem(first.line, "missing_figure", message, "", long.column_name(at))
    return None


def _whole_number(raw: str, thousands: str | None, decimal: str | None) -> int | tuple[str, str]:
    """A count as an int, or (rule, message) when it is none."""
    text = raw.strip()
    if thousands is not None:
        text = text.replace(thousands, "")
        if thousands == " ":
            for space in _SPACES:
                text = text.replace(space, "")
    if not text:
        return "missing_value", "the count is empty"
    if decimal is not None and decimal in text:
        return "decimal_count", "a count must be a whole number, not a decimal"
    if not _WHOLE.fullmatch(text):
        return "not_a_whole_number", "the count is not a whole number"
    return int(text)


def _evaluate(
    native: NativeFile, record: NativeRecord, figure: Figure, *, required: bool, within: str | None = None
) -> int | RowFormatProblem | None:
    """A figure of the record; None when it is not `required` and its cells are left empty. A cell
    that cannot be read is named with what it is a part of (`within`, else the figure if derived)."""
    fields = record.fields
    if figure.positions and all(not fields[p].strip() for p in figure.positions):
        if figure.otherwise is not None:
            return _evaluate(native, record, figure.otherwise, required=required, within=within)
        if not required:
            return None
    within = within or (figure.label if figure.derived else None)
    total = figure.value
    for position in figure.positions:
        raw = fields[position]
        value = native.whole_number(raw)
        if isinstance(value, tuple):
            rule, message = value
            where = f" (a part of {within})" if within else ""
            return RowFormatProblem(record.line, rule, message + where, raw, native.column_name(position))
        total += value
    for part, optional in figure.parts:
        counted = _evaluate(native, record, part, required=not optional, within=within)
        if isinstance(counted, RowFormatProblem):
            return counted
        total += counted or 0
    return total


def id_parts(native: NativeFile, record: NativeRecord) -> tuple[str, str, str] | RowFormatProblem:
    """The record's composed precinct id, region and region name, or the id part that is empty."""
    layout, fields = native.layout, record.fields
    parts = []
    for ref in (*layout.precinct_columns, layout.region):
        position = native.positions[ref]
        text = fields[position].strip()
        if not text:
            column = native.column_name(position)
            return RowFormatProblem(
                record.line, "missing_value", "an id part is empty", fields[position], column
            )
        parts.append(text)
    region_name = parts[-1]
    if native.has(layout.region_name) and layout.region_name is not None:
        region_name = fields[native.positions[layout.region_name]].strip() or region_name
    return layout.precinct_separator.join(parts[:-1]), parts[-1], region_name


def count_of(native: NativeFile, record: NativeRecord, name: str) -> int | RowFormatProblem | None:
    """A figure of the record; None when it is optional and left empty (or its column absent)."""
    figure = native.figures.get(name)
    if figure is None:
        return None
    # an optional figure left empty takes the protocol's default
    return _evaluate(native, record, figure, required=name in REQUIRED_COUNTS)


def read_row(native: NativeFile, record: NativeRecord) -> NativeRow | RowFormatProblem:
    """One record as a protocol, or the first cell the layout cannot read (column and raw value)."""
    layout = native.layout
    fields = record.fields
    ids = id_parts(native, record)
    if isinstance(ids, RowFormatProblem):
        return ids
    counts: dict[str, int] = {}
    for name in native.counts_present:
        value = count_of(native, record, name)
        if isinstance(value, RowFormatProblem):
            return value
        if value is not None:
            counts[name] = value
    votes: list[int] = []
    for item in native.lists:
        vote = native.whole_number(fields[item.position])
        if isinstance(vote, tuple):
            rule, message = vote
            return RowFormatProblem(record.line, rule, message, fields[item.position], item.name)
        votes.append(vote)

    def text(ref: ColumnRef | None) -> str:
        return fields[native.positions[ref]].strip() if ref is not None and native.has(ref) else ""

    precinct_id, region, region_name = ids
    return NativeRow(
        line=record.line,
        precinct_id=precinct_id,
        region=region,
        region_name=region_name,
        counts=counts,
        votes=tuple(votes),
        version=text(layout.version),
        reason=text(layout.reason),
    )


def _stripped(native: NativeFile, position: int) -> list[str]:
    return [record.fields[position].strip() for record in native.records]


def precinct_ids_of(native: NativeFile) -> list[str]:
    """The precinct ids a native file's records name, as far as they can be read (the gate says the
    rest)."""
    layout = native.layout
    parts = [_stripped(native, native.positions[ref]) for ref in layout.precinct_columns]
    return [layout.precinct_separator.join(cells) for cells in zip(*parts, strict=True)]


@dataclass(frozen=True)
class _CountColumn:
    """A count column's records: each value (None where its text is no whole number), whether it is
    none, whether its cell is empty once stripped, and its text as the protocol writes it."""

    values: np.ndarray  # object: int, or None where `bad`
    bad: np.ndarray  # bool
    empty: np.ndarray  # bool
    texts: np.ndarray  # object: str


class _Columns:
    """A native file's count columns, every distinct cell text among them read once."""

    def __init__(self, native: NativeFile, figures: Sequence[str], *, votes: bool = True) -> None:
        self.native = native
        self.rows = len(native.records)
        named = (position for name in figures for position in native.figures[name].all_positions())
        lists = (i.position for i in native.lists) if votes else ()
        self.positions = sorted({*named, *lists})
        by_position = list(zip(*(record.fields for record in native.records), strict=True))
        cells = [cell for position in self.positions for cell in by_position[position]] if self.rows else []
        codes, distinct = pd.factorize(np.array(cells, dtype=object))
        read = [native.whole_number(text) for text in distinct]
        # Index 0 stands for no text at all (pandas' code -1), which a csv record never has.
        at = (codes + 1).reshape(len(self.positions), self.rows)
        values = np.array([None, *(None if isinstance(v, tuple) else v for v in read)], dtype=object)
        bad = np.array([True, *(isinstance(v, tuple) for v in read)], dtype=bool)
        empty = np.array([True, *(not text.strip() for text in distinct)], dtype=bool)
        texts = np.array(["", *(str(v) for v in read)], dtype=object)
        self._at = {position: at[n] for n, position in enumerate(self.positions)}
        self._read = (values, bad, empty, texts)

    def count(self, position: int) -> _CountColumn:
        at = self._at[position]
        values, bad, empty, texts = self._read
        return _CountColumn(values[at], bad[at], empty[at], texts[at])


def _values(
    columns: _Columns, figure: Figure, *, required: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A figure's values (meaningless where it cannot be read), which records cannot give it (as
    `_evaluate` reads them) and which leave it empty (taking `otherwise` where given)."""
    rows = columns.rows
    total: np.ndarray = np.full(rows, figure.value, dtype=object)
    bad = np.zeros(rows, dtype=bool)
    cells = [columns.count(position) for position in figure.positions]
    for cell in cells:
        total = total + np.where(cell.bad, 0, cell.values)
        bad |= cell.bad
    empty = np.logical_and.reduce([cell.empty for cell in cells]) if cells else np.zeros(rows, dtype=bool)
    for part, optional in figure.parts:
        values, part_bad, part_empty = _values(columns, part, required=not optional)
        total = total + np.where(part_bad | part_empty, 0, values)
        bad |= part_bad
    if figure.otherwise is not None:
        values, other_bad, other_empty = _values(columns, figure.otherwise, required=required)
        total, bad = np.where(empty, values, total), np.where(empty, other_bad, bad)
        empty = empty & other_empty
    elif not required:
        bad &= ~empty
    return total, bad, empty


def _figure_values(columns: _Columns, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A required figure's values (a sum where derived; meaningless where it cannot be read) and
    which records cannot give it."""
    total, bad, _ = _values(columns, columns.native.figures[name], required=True)
    return total, bad


def _figure(columns: _Columns, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A figure's cells as the protocol's text ("" when an optional one is left empty) and which
    records cannot give it (`read_row` refuses them)."""
    figure = columns.native.figures[name]
    required = name in REQUIRED_COUNTS
    if figure.plain:  # most figures: the column's own texts, no sum to form
        cell = columns.count(figure.positions[0])
        texts, bad, empty = cell.texts, cell.bad, cell.empty
        if not required:
            bad = bad & ~empty
    else:
        total, bad, empty = _values(columns, figure, required=required)
        texts = np.array([str(value) for value in total], dtype=object)
    left_empty = np.zeros(columns.rows, dtype=bool) if required else empty
    return np.where(left_empty, "", texts), bad


def _id_columns(native: NativeFile) -> tuple[list[str], list[str], list[str], np.ndarray]:
    """Each record's composed precinct id, region and region name, as `id_parts` gives them, and
    which records have an empty id part (`id_parts` names it)."""
    layout = native.layout
    ids = [_stripped(native, native.positions[ref]) for ref in (*layout.precinct_columns, layout.region)]
    empty = np.zeros(len(native.records), dtype=bool)
    for part in ids:
        empty |= np.array([not text for text in part], dtype=bool)
    regions = ids[-1]
    names = regions
    if native.has(layout.region_name) and layout.region_name is not None:
        given = _stripped(native, native.positions[layout.region_name])
        names = [name or region for name, region in zip(given, regions, strict=True)]
    precinct_ids = [layout.precinct_separator.join(p) for p in zip(*ids[:-1], strict=True)]
    return precinct_ids, regions, names, empty


@dataclass(frozen=True)
class Stations:
    """A native file's records as stations, for a declaration: each one's composed precinct id,
    region, region name and registered voters. `unread`: the records one of whose cells cannot be
    read (an empty id part, registered voters no whole number), whose values here mean nothing;
    `id_parts` and `count_of` name the problem."""

    precinct_ids: list[str]
    regions: list[str]
    region_names: list[str]
    registered_voters: list[int]
    unread: np.ndarray  # bool


def stations(native: NativeFile) -> Stations:
    """Every record's station figures, read column by column."""
    precinct_ids, regions, names, unread = _id_columns(native)
    registered, bad = _figure_values(
        _Columns(native, ["registered_voters"], votes=False), "registered_voters"
    )
    return Stations(precinct_ids, regions, names, registered.tolist(), unread | bad)


def protocol_table(
    native: NativeFile, *, election_id: str, list_ids: Sequence[str]
) -> RawTable | FormatRejection:
    """The native file as the protocol-v1 reader would give it: text cells in the protocol's columns
    and the declared lists', rows numbered by the native file's lines; records the layout cannot read
    are row problems naming their native column and raw value.

    Read column by column (each distinct count text once); a record some cell of which cannot be
    read is read again alone by `read_row`, which names the problem, so the problems are its own."""
    found = [item.list_id for item in native.lists]
    missing = [i for i in list_ids if i not in found]
    if missing:
        return FormatRejection(
            "missing_column",
            f"the layout finds no column for declared list {missing[0]!r} (it finds {found})",
        )
    unknown = [i for i in found if i not in list_ids]
    if unknown:
        name = native.lists[found.index(unknown[0])].name
        return FormatRejection(
            "unknown_column", f"column {name!r} is list {unknown[0]!r}, which the election does not declare"
        )
    layout = native.layout
    present = native.counts_present
    optional = [n for n in ("ballots_issued", "against_all") if n in present]
    amendments = ["version", "reason"] if native.has(layout.version) else []
    figures = ["registered_voters", "ballots_cast", "invalid_ballots", *optional]
    columns = ["election_id", "precinct_id", "region", *figures, *amendments, *list_ids]
    read = _Columns(native, present)
    precinct_ids, regions, _, refused = _id_columns(native)
    cells: dict[str, Sequence[str] | np.ndarray] = {
        "election_id": [election_id] * read.rows,
        "precinct_id": precinct_ids,
        "region": regions,
    }
    for name in present:
        texts, bad = _figure(read, name)
        refused |= bad
        if name in figures:
            cells[name] = texts
    for name in amendments:
        ref = layout.version if name == "version" else layout.reason
        has = ref is not None and native.has(ref)
        cells[name] = (
            _stripped(native, native.positions[ref]) if has and ref is not None else [""] * read.rows
        )
    votes = [read.count(item.position) for item in native.lists]
    for vote in votes:
        refused |= vote.bad
    for list_id in list_ids:
        cells[list_id] = votes[found.index(list_id)].texts
    problems = list(native.problems)
    keep = ~refused
    for index in np.flatnonzero(refused):
        row = read_row(native, native.records[index])
        if isinstance(row, RowFormatProblem):
            problems.append(row)
        else:  # never expected: every cell read_row reads was read here, and it reads them alike
            keep[index] = True
    lines = np.array([record.line for record in native.records], dtype=np.int64)
    kept = [pa.array(np.asarray(cells[name], dtype=object)[keep], type=pa.large_string()) for name in columns]
    problems.sort(key=lambda p: p.row)
    return RawTable(
        "protocol", tuple(columns), text_table(lines[keep], columns, kept), tuple(problems), False, "none"
    )


def native_protocol_table(
    path: Path, layout: NativeLayout, election: ElectionDeclaration, native: NativeFile | None = None
) -> RawTable | FormatRejection:
    """A received native file as the gate's protocol table for `election`, or why it cannot be one;
    `native`: the file as read through `layout` already, from the bytes archived at `path`."""
    if native is not None and native.layout.sha256 == layout.sha256:
        return protocol_table(native, election_id=election.election_id, list_ids=election.list_ids)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return FormatRejection("unreadable_file", f"cannot read the file: {exc.strerror or exc}")
    read = read_native(data, layout)
    if isinstance(read, FormatRejection):
        return FormatRejection(read.rule, f"{layout.describe()} does not fit this file: {read.message}")
    return protocol_table(read, election_id=election.election_id, list_ids=election.list_ids)
