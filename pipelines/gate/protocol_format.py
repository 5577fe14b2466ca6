"""Reading a raw protocol or annulment CSV file into text cells, or rejecting the whole file.

This module only decides whether a file is a readable CSV of a known format (`schemas/protocol_csv.md`);
it does not judge values. Every cell stays text (stripped of surrounding blanks) so that the validation
gate can report the exact value that breaks a rule. A problem that concerns one record (wrong number of
fields, the header repeated inside the data) is a row problem; anything that makes the file as a whole
unreadable is a `FormatRejection`.
"""

from __future__ import annotations

import csv
import gc
import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from pipelines.gate.intake import FILE_TOO_LARGE, max_file_bytes

FileKind = Literal["protocol", "annulment"]

PROTOCOL_REQUIRED: tuple[str, ...] = (
    "election_id",
    "precinct_id",
    "region",
    "registered_voters",
    "ballots_cast",
    "invalid_ballots",
)
PROTOCOL_OPTIONAL: tuple[str, ...] = ("ballots_issued", "against_all", "version", "reason")
ANNULMENT_COLUMNS: tuple[str, ...] = ("election_id", "precinct_id", "reason", "decided_by")
# The columns that hold whole numbers: the protocol's figures and its version.
PROTOCOL_NUMBERS: tuple[str, ...] = (
    "registered_voters",
    "ballots_issued",
    "ballots_cast",
    "invalid_ballots",
    "against_all",
    "version",
)
# Every format column in the order files are written and accepted rows are handed on (lists follow).
PROTOCOL_COLUMNS: tuple[str, ...] = ("election_id", "precinct_id", "region", *PROTOCOL_NUMBERS, "reason")

_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook?)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel/Office document"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
)
_UTF16_32_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)
_UTF8_BOM = b"\xef\xbb\xbf"
_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default "str" dtype
_OTHER_DELIMITERS: tuple[tuple[str, str], ...] = (
    (";", "semicolon"),
    ("\t", "tab"),
    ("|", "vertical bar"),
)
# C0 control characters other than tab, LF and CR (and DEL) never occur in a text export.
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Every byte but those characters: deleting them leaves a control character's byte, if any (in UTF-8
# these bytes never occur inside another character). A byte scan is ten times faster than the regex.
_NOT_CONTROL_BYTES = bytes(b for b in range(256) if not _CONTROL_CHARACTERS.match(chr(b)))


@dataclass(frozen=True)
class FormatRejection:
    """The file as a whole cannot be read as a protocol or annulment CSV."""

    rule: str
    message: str


@dataclass(frozen=True)
class RowFormatProblem:
    """One record that cannot be lined up with the header (or, in a native file, read by its layout)."""

    row: int
    rule: str
    message: str
    value: str | None
    column: str | None = None


@dataclass(frozen=True)
class RawTable:
    """A readable file: its format, header and text cells.

    `cells` has an int64 column `row` (the line where the record starts, header = line 1) and one
    large_string column per header column; records listed in `row_problems` are not in it. It stays
    Arrow so that files validated together become one pandas frame, not one each (`frame`).
    """

    kind: FileKind
    columns: tuple[str, ...]
    cells: pa.Table
    row_problems: tuple[RowFormatProblem, ...]
    had_bom: bool
    line_ending: Literal["LF", "CRLF", "CR", "none"]

    @cached_property
    def frame(self) -> pd.DataFrame:
        """`cells` as pandas: `row` int64, the text columns in pandas' "str" dtype."""
        return text_frame(self.cells)


def text_table(
    rows: np.ndarray, header: Sequence[str], columns: Sequence[pa.Array | pa.ChunkedArray]
) -> pa.Table:
    """The cells of a `RawTable`: `row` and the text columns, in the header's order."""
    arrays = [pa.array(rows, type=pa.int64()), *(values.cast(pa.large_string()) for values in columns)]
    return pa.table(arrays, names=["row", *header])


def text_frame(cells: pa.Table) -> pd.DataFrame:
    """A table of `text_table`'s shape as a pandas frame (the text columns share Arrow's buffers)."""
    columns: dict[str, object] = {"row": cells.column(0).to_numpy()}
    for name, values in zip(cells.column_names[1:], cells.columns[1:], strict=True):
        columns[name] = pd.Series(values, dtype=_TEXT)
    return pd.DataFrame(columns)


def read_raw_table(path: Path, *, list_ids: Sequence[str]) -> RawTable | FormatRejection:
    """Read `path` as a protocol (with the declared `list_ids` as vote columns) or an annulment file."""
    try:
        # Intake refused bigger files unread; this guards callers that hand over a path directly.
        size, limit = path.stat().st_size, max_file_bytes()
        if size > limit:
            return FormatRejection(FILE_TOO_LARGE, f"file is {size} bytes, above {limit}")
        data = path.read_bytes()
    except OSError as exc:
        return FormatRejection("unreadable_file", f"cannot read the file: {exc.strerror or exc}")
    text = _decode(data)
    if isinstance(text, FormatRejection):
        return text
    had_bom = data.startswith(_UTF8_BOM)
    with _collector_paused():
        simple = _simple_table(text, list_ids=list_ids, had_bom=had_bom)
        if simple is not None:
            return simple
        records = _split_records(text)
        if isinstance(records, FormatRejection):
            return records
        return _table_from_records(records, text=text, list_ids=list_ids, had_bom=had_bom)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of short-lived cell lists are made.

    They hold no cycles, yet each allocation burst triggers full collections: about 40% of the time
    of reading a 100,000-row file.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def sniff_kind(path: Path) -> FileKind:
    """Best guess of an unreadable file's format, for labelling its rejection: by its first line."""
    try:
        with path.open("rb") as handle:
            head = handle.read(65536)
    except OSError:
        return "protocol"
    return sniff_kind_of(head)


def sniff_kind_of(data: bytes) -> FileKind:
    """`sniff_kind` of a file already read: by its first line."""
    head = data[:65536]
    encoding = next((name for bom, name in _UTF16_32_BOMS if head.startswith(bom)), "UTF-8")
    text = head.decode(encoding, errors="replace")
    first_line = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    return "annulment" if "decided_by" in first_line else "protocol"


def _decode(data: bytes) -> str | FormatRejection:
    if not data.strip():
        return FormatRejection(
            "empty_file", "the file is empty" if not data else "the file holds only blanks"
        )
    for bom, name in _UTF16_32_BOMS:
        if data.startswith(bom):
            return FormatRejection("wrong_encoding", f"the file is {name} text; save it as UTF-8")
    for signature, what in _BINARY_SIGNATURES:
        if data.startswith(signature):
            return FormatRejection("binary_file", f"the file is {what}, not CSV text")
    if b"\x00" in data:
        return FormatRejection("binary_file", "the file holds NUL bytes: binary data, not CSV text")
    body = data[len(_UTF8_BOM) :] if data.startswith(_UTF8_BOM) else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        return FormatRejection(
            "wrong_encoding",
            f"line {line}: byte {body[exc.start : exc.start + 1]!r} is not UTF-8 "
            "(a Windows-1251 or Latin-1 export?); save the file as UTF-8",
        )
    control = _CONTROL_CHARACTERS.search(text) if body.translate(None, _NOT_CONTROL_BYTES) else None
    if control is not None:
        line = text.count("\n", 0, control.start()) + 1
        return FormatRejection(
            "binary_file", f"line {line}: control character {control.group()!r}: binary data, not CSV text"
        )
    return text


@dataclass(frozen=True)
class _Record:
    line: int
    fields: list[str]


def _split_records(text: str) -> list[_Record] | FormatRejection:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[_Record] = []
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return records
        except csv.Error as exc:
            if "unexpected end of data" in str(exc) or "EOF" in str(exc):
                return FormatRejection(
                    "truncated_file", f"line {start}: a quoted field is never closed: the file is cut off"
                )
            return FormatRejection("unparseable_csv", f"line {start}: {exc}")
        if "".join(fields).strip():
            records.append(_Record(start, fields))


def _line_ending(text: str) -> Literal["LF", "CRLF", "CR", "none"]:
    if "\r\n" in text:
        return "CRLF"
    if "\n" in text:
        return "LF"
    return "CR" if "\r" in text else "none"


def _header_problem(header: Sequence[str], list_ids: Sequence[str]) -> FormatRejection | FileKind:
    if len(header) == 1:
        for delimiter, name in _OTHER_DELIMITERS:
            if delimiter in header[0]:
                return FormatRejection(
                    "wrong_delimiter",
                    f"the header is split by {name}s ({delimiter!r}), not commas: save the file as "
                    "comma-separated CSV",
                )
    empty = [i for i, name in enumerate(header, start=1) if not name]
    if empty:
        return FormatRejection("empty_column_name", f"header: column {empty[0]} has no name")
    seen: set[str] = set()
    for name in header:
        if name in seen:
            return FormatRejection("duplicate_column", f"header: column {name!r} appears more than once")
        seen.add(name)
    kind: FileKind = "annulment" if "decided_by" in seen else "protocol"
    if kind == "annulment":
        required: tuple[str, ...] = ANNULMENT_COLUMNS
        allowed = set(ANNULMENT_COLUMNS)
    else:
        required = (*PROTOCOL_REQUIRED, *list_ids)
        allowed = {*PROTOCOL_REQUIRED, *PROTOCOL_OPTIONAL, *list_ids}
    missing = [name for name in required if name not in seen]
    if missing:
        return FormatRejection(
            "missing_column", f"{kind} header lacks column(s) {', '.join(repr(m) for m in missing)}"
        )
    unknown = [name for name in header if name not in allowed]
    if unknown:
        what = (
            "neither a declared list nor a protocol column"
            if kind == "protocol"
            else "not an annulment column"
        )
        return FormatRejection(
            "unknown_column", f"header: column(s) {', '.join(repr(u) for u in unknown)}: {what}"
        )
    return kind


def _table_from_records(
    records: list[_Record], *, text: str, list_ids: Sequence[str], had_bom: bool
) -> RawTable | FormatRejection:
    if not records:
        return FormatRejection("empty_file", "the file holds no records")
    header = [name.strip() for name in records[0].fields]
    kind = _header_problem(header, list_ids)
    if isinstance(kind, FormatRejection):
        return kind
    width = len(header)
    body = records[1:]
    if body and len(body[-1].fields) < width and not text.endswith(("\n", "\r")):
        last = body[-1]
        return FormatRejection(
            "truncated_file",
            f"line {last.line}: the last record has {len(last.fields)} of {width} fields and no line end: "
            "the file is cut off",
        )
    problems: list[RowFormatProblem] = []
    good: list[_Record] = []
    for record in body:
        if (
            len(record.fields) == width
            and record.fields[0].strip() == header[0]
            and [cell.strip() for cell in record.fields] == header
        ):
            problems.append(
                RowFormatProblem(
                    record.line, "repeated_header", "the header is repeated inside the data", None
                )
            )
        elif len(record.fields) != width:
            problems.append(
                RowFormatProblem(
                    record.line,
                    "field_count",
                    f"{len(record.fields)} fields where the header has {width}",
                    ",".join(record.fields)[:200],
                )
            )
        else:
            good.append(record)
    if not body:
        return FormatRejection("no_data_rows", "the file has a header but no data rows")
    return RawTable(
        kind=kind,
        columns=tuple(header),
        cells=_record_cells(header, good),
        row_problems=tuple(problems),
        had_bom=had_bom,
        line_ending=_line_ending(text),
    )


def _record_cells(header: Sequence[str], records: Sequence[_Record]) -> pa.Table:
    lines = np.fromiter((r.line for r in records), dtype=np.int64, count=len(records))
    cells = list(zip(*(r.fields for r in records), strict=True)) if records else [() for _ in header]
    return text_table(
        lines, header, [_stripped(pa.array(values, type=pa.large_string())) for values in cells]
    )


def _stripped(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Cells without surrounding blanks: the kernel pandas' `str.strip` runs, Python's strip on text."""
    return pc.utf8_trim_whitespace(values)


def _simple_table(text: str, *, list_ids: Sequence[str], had_bom: bool) -> RawTable | FormatRejection | None:
    """The table of a simple file, read by lines with Arrow; None for any other file.

    Simple: no quote, no line break but LF or CRLF, no line longer than the csv module's field limit
    (it rejects such a field). Every line is then one record and its fields are split by commas, so this
    gives exactly what `_split_records` and `_table_from_records` give, several times faster.
    """
    returns = text.count("\r")
    if '"' in text or returns != text.count("\r\n"):
        return None
    body_text = text.replace("\r\n", "\n") if returns else text
    lines = pc.list_flatten(pc.split_pattern(pa.array([body_text], type=pa.large_string()), "\n"))
    if pc.max(pc.utf8_length(lines)).as_py() > csv.field_size_limit():
        return None
    kept = _not_blank(lines)
    numbers = np.flatnonzero(kept) + 1
    if not len(numbers):
        return FormatRejection("empty_file", "the file holds no records")
    records = lines.filter(pa.array(kept))
    header = [name.strip() for name in str(records[0].as_py()).split(",")]
    kind = _header_problem(header, list_ids)
    if isinstance(kind, FormatRejection):
        return kind
    if len(records) == 1:
        return FormatRejection("no_data_rows", "the file has a header but no data rows")
    width = len(header)
    last = str(records[-1].as_py()).count(",") + 1
    if last < width and not text.endswith(("\n", "\r")):
        return FormatRejection(
            "truncated_file",
            f"line {numbers[-1]}: the last record has {last} of {width} fields and no line end: "
            "the file is cut off",
        )
    # Python's strip of an ASCII cell that holds no blank or tab (control characters are refused) is
    # the cell itself.
    strip = not text.isascii() or " " in text or "\t" in text
    after_header = kept[numbers[0] :]
    if len(after_header) and not str(lines[-1].as_py()):
        after_header = after_header[:-1]  # what follows the file's last line end
    cells = _arrow_cells(body_text, numbers, header, strip=strip) if after_header.all() else None
    problems: tuple[RowFormatProblem, ...] = ()
    if cells is None:
        cells, problems = _line_cells(records[1:], numbers[1:], header, strip=strip)
    return RawTable(
        kind=kind,
        columns=tuple(header),
        cells=cells,
        row_problems=problems,
        had_bom=had_bom,
        line_ending="CRLF" if returns else "LF" if "\n" in text else "none",
    )


def _arrow_cells(text: str, numbers: np.ndarray, header: Sequence[str], *, strip: bool) -> pa.Table | None:
    """The cells of a file whose every line after the header is a record, parsed by Arrow's CSV reader.

    None when a record has another number of fields than the header, or repeats it: the line reader
    names those.
    """
    start = 0
    for _ in range(int(numbers[0])):
        start = text.index("\n", start) + 1
    names = [f"c{index}" for index in range(len(header))]
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(text[start:].encode("utf-8")),
            read_options=pa_csv.ReadOptions(column_names=names, use_threads=False),
            parse_options=pa_csv.ParseOptions(
                quote_char=False, double_quote=False, escape_char=False, newlines_in_values=False
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.large_string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        return None
    if table.num_rows != len(numbers) - 1:
        return None
    columns = [_stripped(values) if strip else values for values in table.columns]
    if pc.any(pc.equal(columns[0], header[0])).as_py():
        return None
    return text_table(numbers[1:], header, columns)


def _line_cells(
    records: pa.Array, numbers: np.ndarray, header: Sequence[str], *, strip: bool
) -> tuple[pa.Table, tuple[RowFormatProblem, ...]]:
    """The cells of the records that line up with the header, and the problems of those that do not."""
    width = len(header)
    widths = pc.add(pc.count_substring(records, ","), 1).to_numpy()
    good = widths == width
    problems = [
        RowFormatProblem(
            int(numbers[bad]),
            "field_count",
            f"{widths[bad]} fields where the header has {width}",
            str(records[int(bad)].as_py())[:200],
        )
        for bad in np.flatnonzero(~good)
    ]
    may_repeat = good & pc.match_substring(records, header[0]).to_numpy(zero_copy_only=False)
    for position in np.flatnonzero(may_repeat):
        if [cell.strip() for cell in str(records[int(position)].as_py()).split(",")] == header:
            good[position] = False
            problems.append(
                RowFormatProblem(
                    int(numbers[position]), "repeated_header", "the header is repeated inside the data", None
                )
            )
    problems.sort(key=lambda problem: problem.row)
    cells = pc.list_flatten(pc.split_pattern(records.filter(pa.array(good)), ","))
    columns = []
    for index in range(width):
        values = cells.take(pa.array(np.arange(index, len(cells), width)))
        columns.append(_stripped(values) if strip else values)
    return text_table(numbers[good], header, columns), tuple(problems)


def _not_blank(lines: pa.Array) -> np.ndarray:
    """Lines the csv module reads as a record: those whose fields are not all blank (Python's strip)."""
    # A line that starts with printable ASCII other than blank and comma is a record; the others (empty
    # lines, leading blanks, commas or non-ASCII) are few and decided in Python.
    kept: np.ndarray = pc.match_substring_regex(lines, "^[!-+\\--~]").to_numpy(zero_copy_only=False)
    for position in np.flatnonzero(~kept):
        kept[position] = bool(str(lines[int(position)].as_py()).replace(",", "").strip())
    return kept
