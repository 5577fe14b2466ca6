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
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.domain.election import ElectionDeclaration
from pipelines.gate.native_layout import REQUIRED_COUNTS, ColumnRef, CountSource, NativeLayout
from pipelines.gate.protocol_format import FormatRejection, RawTable, RowFormatProblem

# Counts are whole numbers: digits, optionally signed (a negative count is the gate's to refuse).
_WHOLE = re.compile(r"[+-]?[0-9]+")
# A space as thousands separator is also written as a no-break or narrow no-break space.
_SPACES = ("\u00a0", "\u202f")
LAYOUT_MISFIT = "layout_mismatch"


@dataclass(frozen=True)
class NativeList:
    list_id: str
    name: str  # the header text
    position: int  # 0-based column


@dataclass(frozen=True)
class NativeRecord:
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
class NativeFile:
    layout: NativeLayout
    header: tuple[str, ...]
    positions: dict[ColumnRef, int]  # every column the layout names -> its 0-based position
    lists: tuple[NativeList, ...]
    records: tuple[NativeRecord, ...]
    problems: tuple[RowFormatProblem, ...]  # records that cannot be lined up with the header
    # Each distinct cell text read as a count once: a column of 100,000 rows holds a few thousand.
    _counts_read: dict[str, int | tuple[str, str]] = field(default_factory=dict, compare=False, repr=False)

    def column_name(self, position: int) -> str:
        return self.header[position] or f"column {position + 1}"

    def has(self, ref: ColumnRef | None) -> bool:
        """Whether the file has this named column (an optional one may be missing)."""
        return ref is not None and ref in self.positions

    @cached_property
    def counts_present(self) -> tuple[str, ...]:
        """The figures this file gives: those whose every column it has."""
        counts = self.layout.counts.items()
        return tuple(name for name, source in counts if all(self.has(c) for c in source.columns))

    def whole_number(self, raw: str) -> int | tuple[str, str]:
        """A count cell as an int, or (rule, message) when it is none."""
        found = self._counts_read.get(raw)
        if found is None:
            found = self._counts_read[raw] = _whole_number(raw, self.layout)
        return found


def _records(text: str, layout: NativeLayout) -> list[NativeRecord] | FormatRejection:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=layout.delimiter, quotechar=layout.quote)
    records: list[NativeRecord] = []
    try:
        start = 1
        for fields in reader:
            if any(cell.strip() for cell in fields):
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
    skips: list[tuple[int, re.Pattern[str]]] = []
    for rule in layout.skip_where:
        found = _resolve(header, rule.column)
        if isinstance(found, str):
            return FormatRejection("missing_column", f"line {head.line}: {found}")
        skips.append((found, rule.matches))
    body = [r for r in records[layout.skip_rows + 1 :] if not _not_a_station(r.fields, skips)]
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
    named = {*positions.values(), *(n for n, _ in skips)}
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


def _not_a_station(fields: Sequence[str], skips: Sequence[tuple[int, re.Pattern[str]]]) -> bool:
    """Whether the layout's skip_where says this record is not a station (a totals line)."""
    return any(n < len(fields) and pattern.fullmatch(fields[n].strip()) for n, pattern in skips)


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
    first record's line, its lists' votes as columns after the file's own. A station whose records
    disagree on a figure, name a list twice or lack one is a row problem and left out."""
    layout = long.layout
    assert layout.lists.long_list is not None and layout.lists.long_votes is not None
    name_at, votes_at = long.positions[layout.lists.long_list], long.positions[layout.lists.long_votes]
    key_at = [long.positions[ref] for ref in layout.precinct_columns]
    stations: dict[tuple[str, ...], list[NativeRecord]] = {}
    for record in long.records:
        stations.setdefault(tuple(record.fields[n].strip() for n in key_at), []).append(record)
    names = list(dict.fromkeys(r.fields[name_at].strip() for r in long.records))
    width = len(long.header)
    lists = _lists(names, layout, range(width, width + len(names)))
    refused = _ids_clash(lists)
    if refused is not None:
        return refused
    same = [n for n in range(width) if n not in (name_at, votes_at)]
    problems = list(long.problems)
    wide: list[NativeRecord] = []
    for rows in stations.values():
        first = rows[0]
        votes: dict[str, str] = {}
        problem = None
        for row in rows:
            differs = next((n for n in same if row.fields[n].strip() != first.fields[n].strip()), None)
            name = row.fields[name_at].strip()
            if differs is not None:
                message = (
                    f"the station's records disagree: {first.fields[differs].strip()!r} on line {first.line}"
                )
                problem = RowFormatProblem(
                    row.line, "long_rows_disagree", message, row.fields[differs], long.column_name(differs)
                )
            elif name in votes:
                problem = RowFormatProblem(
                    row.line,
                    "duplicate_list",
                    "the station names this list twice",
                    name,
                    long.column_name(name_at),
                )
            if problem is not None:
                break
            votes[name] = row.fields[votes_at]
        missing = [n for n in names if n not in votes]
        if problem is None and missing:
            problem = RowFormatProblem(
                first.line,
                "missing_list",
                "the station has no record of this list",
                missing[0],
                long.column_name(name_at),
            )
        if problem is not None:
            problems.append(problem)
            continue
        wide.append(NativeRecord(first.line, (*first.fields, *(votes[n] for n in names))))
    header = (*long.header, *names)
    return NativeFile(layout, header, long.positions, lists, tuple(wide), tuple(problems))


def _whole_number(raw: str, layout: NativeLayout) -> int | tuple[str, str]:
    """A count as an int, or (rule, message) when it is none."""
    text = raw.strip()
    thousands = layout.thousands_separator
    if thousands is not None:
        text = text.replace(thousands, "")
        if thousands == " ":
            for space in _SPACES:
                text = text.replace(space, "")
    if not text:
        return "missing_value", "the count is empty"
    decimal = layout.decimal_separator
    if decimal is not None and decimal in text:
        return "decimal_count", "a count must be a whole number, not a decimal"
    if not _WHOLE.fullmatch(text):
        return "not_a_whole_number", "the count is not a whole number"
    return int(text)


def _count(native: NativeFile, record: NativeRecord, source: CountSource) -> int | RowFormatProblem:
    total = 0
    for ref in source.columns:
        position = native.positions[ref]
        raw = record.fields[position]
        value = native.whole_number(raw)
        if isinstance(value, tuple):
            rule, message = value
            where = f" (a part of {'+'.join(map(str, source.columns))})" if source.derived else ""
            return RowFormatProblem(record.line, rule, message + where, raw, native.column_name(position))
        total += value
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
    if name not in native.counts_present:
        return None
    source = native.layout.counts[name]
    if name not in REQUIRED_COUNTS and all(
        not record.fields[native.positions[r]].strip() for r in source.columns
    ):
        return None  # an optional figure left empty takes the protocol's default
    return _count(native, record, source)


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


def native_precinct_ids(data: bytes, layout: NativeLayout) -> list[str]:
    """The precinct ids a native file names, as far as they can be read (the gate says the rest)."""
    native = read_native(data, layout)
    if isinstance(native, FormatRejection):
        return []
    ids = []
    for record in native.records:
        parts = [record.fields[native.positions[ref]].strip() for ref in layout.precinct_columns]
        ids.append(layout.precinct_separator.join(parts))
    return ids


def protocol_table(
    native: NativeFile, *, election_id: str, list_ids: Sequence[str]
) -> RawTable | FormatRejection:
    """The native file as the protocol-v1 reader would give it: text cells in the protocol's columns
    and the declared lists', rows numbered by the native file's lines; records the layout cannot read
    are row problems naming their native column and raw value."""
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
    frame: dict[str, object] = {"row": np.array(lines, dtype=np.int64)}
    frame.update({name: pd.Series(values, dtype="str") for name, values in cells.items()})
    problems.sort(key=lambda p: p.row)
    return RawTable("protocol", tuple(columns), pd.DataFrame(frame), tuple(problems), False, "none")


def native_protocol_table(
    path: Path, layout: NativeLayout, election: ElectionDeclaration
) -> RawTable | FormatRejection:
    """A received native file as the gate's protocol table for `election`, or why it cannot be one."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return FormatRejection("unreadable_file", f"cannot read the file: {exc.strerror or exc}")
    native = read_native(data, layout)
    if isinstance(native, FormatRejection):
        return FormatRejection(native.rule, f"{layout.describe()} does not fit this file: {native.message}")
    return protocol_table(native, election_id=election.election_id, list_ids=election.list_ids)
