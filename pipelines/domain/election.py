"""The declared election: lists in ballot order, the geography, and which rule profile applies.

The rule profile is named by a shipped id or by a file inside the declaration's folder; ingestion
reads it once (`read_named_file`) and puts its content into the ElectionDeclared event.

An election is declared once, from a JSON file (see `schemas/election_declaration.md`), before any
protocol for it can be accepted. Precincts may be listed inline or in a CSV file beside the JSON
(`precincts_csv`), which keeps declarations of a million polling stations small to parse.
"""

from __future__ import annotations

import csv
import json
import operator
import os
import re
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any, SupportsIndex, overload

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from pipelines.core.errors import InputError
from pipelines.domain.list_kinds import PARTY, is_kind

_ELECTION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
PRECINCT_COLUMNS = ("precinct_id", "region_id", "registered_voters")
_BATCH = 65_536  # iteration builds Python objects one batch at a time, never for a whole table at once
_INT64_DIGITS = 18  # any whole number of at most this many digits fits in int64


@dataclass(frozen=True)
class PartyList:
    list_id: str
    name: str
    ballot_order: int
    color: str | None = None
    candidates: int | None = None  # list length; None = long enough for any seat count
    kind: str = PARTY  # a party, a coalition...: thresholds may differ by kind (domain/list_kinds.py)


@dataclass(frozen=True)
class Region:
    region_id: str
    name: str
    utc_offset_hours: int | None = None


@dataclass(frozen=True)
class Precinct:
    precinct_id: str
    region_id: str
    registered_voters: int


class PrecinctTable(Sequence[Precinct]):
    """Precincts held as three columns in declaration order; a `Precinct` is built only when one is read.

    Compares equal to another table or to a tuple of `Precinct` with the same rows, and hashes like that
    tuple, so an `ElectionDeclaration` compares by content whichever form its precincts take.
    """

    __slots__ = ("_hash", "_ids", "_index", "_regions", "_voters")

    def __init__(self, precinct_ids: Any, region_ids: Any, registered_voters: Any) -> None:
        """Columns as pyarrow arrays, pandas Series, numpy arrays or lists; they are copied, never shared."""
        self._ids = _string_column(precinct_ids, "precinct_id")
        self._regions = _string_column(region_ids, "region_id")
        given = np.asarray(registered_voters)
        if given.ndim != 1 or (given.size and given.dtype.kind not in "iu"):
            raise TypeError(f"registered_voters must be one column of integers, not {given.dtype}")
        voters = given.astype(np.int64)
        voters.flags.writeable = False
        if not len(self._ids) == len(self._regions) == len(voters):
            raise ValueError("precinct columns must have the same length")
        self._voters: npt.NDArray[np.int64] = voters
        self._index: pd.Index | None = None  # id -> row, built when first needed, then kept
        self._hash: int | None = None

    @classmethod
    def from_precincts(cls, precincts: Iterable[Precinct]) -> PrecinctTable:
        if isinstance(precincts, PrecinctTable):
            return precincts
        rows = list(precincts)
        return cls(
            [p.precinct_id for p in rows],
            [p.region_id for p in rows],
            np.array([p.registered_voters for p in rows], dtype=np.int64),
        )

    @property
    def precinct_ids(self) -> pa.StringArray:
        return self._ids

    @property
    def region_ids(self) -> pa.StringArray:
        return self._regions

    @property
    def registered_voters(self) -> npt.NDArray[np.int64]:
        """Read-only."""
        return self._voters

    def frame(self) -> pd.DataFrame:
        """precinct_id and region_id as str, registered_voters as int64, in declaration order."""
        return pd.DataFrame(
            {
                "precinct_id": self._ids.to_pandas().astype("str"),
                "region_id": self._regions.to_pandas().astype("str"),
                "registered_voters": self._voters.copy(),
            }
        )

    def records(self) -> list[dict[str, Any]]:
        """One plain dictionary per precinct, as the declaration's JSON form lists them."""
        return [
            {"precinct_id": pid, "region_id": rid, "registered_voters": voters}
            for pid, rid, voters in zip(
                self._ids.to_pylist(), self._regions.to_pylist(), self._voters.tolist(), strict=True
            )
        ]

    def subset(self, precinct_ids: Iterable[str]) -> PrecinctTable:
        """The declared precincts among `precinct_ids`, in declaration order; undeclared ids are left out."""
        if isinstance(precinct_ids, str):
            raise TypeError("subset takes a collection of precinct ids, not one id")
        if isinstance(precinct_ids, pa.Array | pa.ChunkedArray):
            wanted = precinct_ids.to_pylist()
        else:
            wanted = list(precinct_ids)
        index = self._unique_index()
        if index is None:  # ids repeat (a hand-built table): keep every row that carries a wanted id
            mask = pc.is_in(self._ids, value_set=pa.array(wanted, type=pa.string()))
            rows = np.flatnonzero(mask.to_numpy(zero_copy_only=False))
        else:
            found = index.get_indexer(pd.Index(wanted, dtype="str"))
            rows = np.unique(found[found >= 0])
        return self._take(rows)

    def ids_are_unique(self) -> bool:
        """No precinct id appears twice."""
        if len(self) > 1 and pc.all(pc.greater(self._ids[1:], self._ids[:-1])).as_py():
            return True  # ids in strictly increasing order (as generated): no hash table needed
        return self._unique_index() is not None

    def _unique_index(self) -> pd.Index | None:
        if self._index is None:
            # Built once: a batch of 1,000 ids out of 1,000,000 then costs milliseconds, not a scan.
            self._index = pd.Index(self._ids.to_pandas(), dtype="str", copy=False)
        return self._index if self._index.is_unique else None

    def _take(self, rows: npt.NDArray[np.intp]) -> PrecinctTable:
        positions = pa.array(rows, type=pa.int64())
        return PrecinctTable(self._ids.take(positions), self._regions.take(positions), self._voters[rows])

    def __len__(self) -> int:
        return len(self._voters)

    @overload
    def __getitem__(self, index: SupportsIndex) -> Precinct: ...

    @overload
    def __getitem__(self, index: slice) -> PrecinctTable: ...

    def __getitem__(self, index: SupportsIndex | slice) -> Precinct | PrecinctTable:
        if isinstance(index, slice):
            return self._take(np.arange(len(self))[index])
        position = operator.index(index)
        if position < 0:
            position += len(self)
        if not 0 <= position < len(self):
            raise IndexError("precinct index out of range")
        return Precinct(
            self._ids[position].as_py(), self._regions[position].as_py(), int(self._voters[position])
        )

    def __iter__(self) -> Iterator[Precinct]:
        for start in range(0, len(self), _BATCH):
            stop = start + _BATCH
            yield from map(
                Precinct,
                self._ids[start:stop].to_pylist(),
                self._regions[start:stop].to_pylist(),
                self._voters[start:stop].tolist(),
            )

    def __contains__(self, item: object) -> bool:
        if not isinstance(item, Precinct):
            return False
        same = pc.and_(
            pc.equal(self._ids, item.precinct_id), pc.equal(self._regions, item.region_id)
        ).to_numpy(zero_copy_only=False)
        return bool(np.any(same & (self._voters == item.registered_voters)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PrecinctTable):
            return other is self or (
                self._ids.equals(other._ids)
                and self._regions.equals(other._regions)
                and bool(np.array_equal(self._voters, other._voters))
            )
        if isinstance(other, tuple):
            return len(other) == len(self) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        if self._hash is None:
            # The hash of the equal tuple: costly once (a Precinct per row), then kept.
            self._hash = hash(tuple(self))
        return self._hash

    def __repr__(self) -> str:
        return f"PrecinctTable(<{len(self)} precincts>)"


def _string_column(values: Any, name: str) -> pa.StringArray:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    column = values if isinstance(values, pa.Array) else pa.array(values, type=pa.string())
    if pa.types.is_large_string(column.type) or pa.types.is_string_view(column.type):
        column = column.cast(pa.string())
    if column.type != pa.string():
        raise TypeError(f"{name} must be a column of text, not {column.type}")
    if column.null_count:
        raise ValueError(f"{name} must not hold missing values")
    return column


@dataclass(frozen=True)
class ElectionDeclaration:
    election_id: str
    name: str
    date: str
    rule_profile: str
    lists: tuple[PartyList, ...]
    regions: tuple[Region, ...]
    precincts: tuple[Precinct, ...] | PrecinctTable = field(repr=False)
    against_all_on_ballot: bool = False
    synthetic: bool = False
    source_note: str = ""

    @cached_property
    def list_ids(self) -> tuple[str, ...]:
        """In ballot order. Cached: ingestion asks for it once per protocol row."""
        return tuple(p.list_id for p in sorted(self.lists, key=lambda p: p.ballot_order))

    def precinct_table(self) -> PrecinctTable:
        """The precincts as columns, whichever form they were declared in."""
        return self._precinct_columns

    @cached_property
    def _precinct_columns(self) -> PrecinctTable:
        return PrecinctTable.from_precincts(self.precincts)

    def with_precincts(self, precincts: PrecinctTable | tuple[Precinct, ...]) -> ElectionDeclaration:
        """The same declaration over other precincts (a part of them, for a batch)."""
        return replace(self, precincts=precincts)

    def to_json_dict(self, *, include_precincts: bool = True) -> dict[str, Any]:
        """Canonical dictionary form: the payload of the ElectionDeclared event."""
        out: dict[str, Any] = {
            "election_id": self.election_id,
            "name": self.name,
            "date": self.date,
            "rule_profile": self.rule_profile,
            "against_all_on_ballot": self.against_all_on_ballot,
            "synthetic": self.synthetic,
            "source_note": self.source_note,
            "lists": [
                {
                    "list_id": p.list_id,
                    "name": p.name,
                    "ballot_order": p.ballot_order,
                    "color": p.color,
                    "candidates": p.candidates,
                    # written only when declared otherwise, so a declaration without kinds reads as before
                    **({} if p.kind == PARTY else {"kind": p.kind}),
                }
                for p in sorted(self.lists, key=lambda p: p.ballot_order)
            ],
            "regions": [
                {"region_id": r.region_id, "name": r.name, "utc_offset_hours": r.utc_offset_hours}
                for r in self.regions
            ],
        }
        if isinstance(self.precincts, PrecinctTable) and include_precincts:
            out["precincts"] = self.precincts.records()
        elif include_precincts:
            out["precincts"] = [
                {
                    "precinct_id": p.precinct_id,
                    "region_id": p.region_id,
                    "registered_voters": p.registered_voters,
                }
                for p in self.precincts
            ]
        return out


def _require(obj: Mapping[str, Any], key: str, kind: type, where: str, file: str) -> Any:
    if key not in obj:
        raise InputError(f"{where}: missing field {key!r}", file=file, column=key, rule="required")
    value = obj[key]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise InputError(f"{where}: {key!r} must be a whole number", file=file, column=key, value=value)
    if kind is str and (not isinstance(value, str) or not value.strip()):
        raise InputError(f"{where}: {key!r} must be a non-empty text", file=file, column=key, value=value)
    return value


@dataclass(frozen=True)
class _PrecinctSource:
    """Where precincts were read, so that a bad value is named by its file and, for a CSV, its row."""

    file: str
    first_row: int | None = None  # CSV row (header = 1) of the first precinct; None when inline

    def row(self, position: int) -> int | None:
        return None if self.first_row is None else self.first_row + position


def _first(mask: Any) -> int | None:
    """Position of the first true value of a boolean column, or None."""
    position = int(pc.index(pa.array(mask) if isinstance(mask, np.ndarray) else mask, True).as_py())
    return None if position < 0 else position


def _read_precincts_csv(path: Path, file: str) -> tuple[PrecinctTable, _PrecinctSource]:
    """Read the sidecar in one vectorised pass, refusing the first bad row of each kind."""
    source = _PrecinctSource(path.name, first_row=2)
    try:
        header = _csv_header(path, source)
        bad_rows: list[Any] = []

        def stop_at(row: Any) -> str:
            bad_rows.append(row)
            return "error"

        try:
            table = pa_csv.read_csv(
                str(path),
                # One thread: only then does pyarrow number the rows it refuses.
                read_options=pa_csv.ReadOptions(use_threads=False),
                parse_options=pa_csv.ParseOptions(invalid_row_handler=stop_at, newlines_in_values=True),
                convert_options=pa_csv.ConvertOptions(
                    column_types={name: pa.string() for name in header},
                    include_columns=list(PRECINCT_COLUMNS),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except pa.ArrowInvalid as exc:
            raise _csv_error(path, source, bad_rows, exc) from None
    except OSError as exc:
        raise InputError(f"cannot read precincts file: {exc.strerror}", file=file) from None
    if table.num_rows == 0:
        raise InputError("the precincts file lists no precincts", file=source.file, rule="required")
    ids, regions = table["precinct_id"].combine_chunks(), table["region_id"].combine_chunks()
    voters = _whole_numbers(table["registered_voters"].combine_chunks(), source)
    blank = {
        column: _first(pc.equal(pc.utf8_trim_whitespace(values), ""))
        for column, values in (("precinct_id", ids), ("region_id", regions))
    }
    found = [(position, column) for column, position in blank.items() if position is not None]
    if found:
        position, column = min(found)  # the first row; within it, precinct_id before region_id
        raise InputError(
            f"{column!r} must be a non-empty text",
            file=source.file,
            row=source.row(position),
            column=column,
            rule="required",
            value=table[column][position].as_py(),
        )
    return PrecinctTable(ids, regions, voters), source


def _csv_header(path: Path, source: _PrecinctSource) -> list[str]:
    with path.open("rb") as handle:
        first_line = handle.readline()
    try:
        header = next(csv.reader([first_line.decode("utf-8-sig")]), None)
    except UnicodeDecodeError:
        raise InputError(
            "precincts file is not UTF-8 text", file=source.file, row=1, rule="encoding"
        ) from None
    if not header:
        raise InputError("the precincts file lists no precincts", file=source.file, rule="required")
    for column in PRECINCT_COLUMNS:
        if column not in header:
            raise InputError(
                f"the precincts file has no column {column!r}",
                file=source.file,
                row=1,
                column=column,
                rule="required",
            )
        if header.count(column) > 1:
            raise InputError(
                f"the precincts file names column {column!r} twice",
                file=source.file,
                row=1,
                column=column,
                rule="unique_columns",
            )
    return header


def _csv_error(path: Path, source: _PrecinctSource, bad_rows: list[Any], exc: Exception) -> InputError:
    if bad_rows:
        bad = bad_rows[0]
        return InputError(
            f"a row has {bad.actual_columns} fields where the header names {bad.expected_columns}",
            file=source.file,
            row=bad.number,
            rule="column_count",
            value=bad.text,
        )
    if "UTF8" in str(exc):
        return InputError(
            "precincts file is not UTF-8 text",
            file=source.file,
            row=_first_undecodable_line(path),
            rule="encoding",
        )
    return InputError(f"precincts file is not valid CSV: {exc}", file=source.file, rule="csv")


def _first_undecodable_line(path: Path) -> int | None:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return None


def _whole_numbers(text: pa.StringArray, source: _PrecinctSource) -> npt.NDArray[np.int64]:
    """registered_voters as int64; accepts what int() accepts of plain digits: spaces around, a sign."""
    trimmed = pc.utf8_trim_whitespace(text)
    bad = _first(pc.invert(pc.match_substring_regex(trimmed, pattern=r"^[+-]?[0-9]+$")))
    message, rule = "registered_voters must be a whole number", "whole_number"
    if bad is None:
        unsigned = pc.replace_substring_regex(trimmed, pattern=r"^\+", replacement="")
        try:
            return np.asarray(pc.cast(unsigned, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)
        except pa.ArrowInvalid:
            # Only a number beyond int64 gets here; the long ones are few, so look at them one by one.
            long = np.flatnonzero(
                pc.greater(pc.utf8_length(unsigned), _INT64_DIGITS).to_numpy(zero_copy_only=False)
            )
            bad = next(
                (int(at) for at in long if not -(2**63) <= int(unsigned[int(at)].as_py()) < 2**63),
                int(long[0]) if long.size else 0,
            )
            message, rule = "registered_voters is too large", "int64"
    raise InputError(
        message,
        file=source.file,
        row=source.row(bad),
        column="registered_voters",
        rule=rule,
        value=text[bad].as_py(),
    )


def _election_date(data: Mapping[str, Any], file: str) -> str:
    """The declared date, when given, is a calendar date YYYY-MM-DD: exports (NIST) carry it as such."""
    if "date" not in data:
        return ""
    value = data["date"]
    try:
        valid = isinstance(value, str) and date.fromisoformat(value).isoformat() == value
    except ValueError:
        valid = False
    if not valid:
        raise InputError(
            "declaration: 'date' must be a calendar date written YYYY-MM-DD",
            file=file,
            column="date",
            rule="date_format",
            value=value,
        )
    return str(value)


def _list_kind(item: Mapping[str, Any], where: str, file: str) -> str:
    kind = item.get("kind", PARTY)
    if not is_kind(kind):
        raise InputError(
            f"{where}: 'kind' must be a lower-case name such as party or coalition",
            file=file,
            column="kind",
            rule="list_kind",
            value=kind,
        )
    return str(kind)


def parse_declaration(
    data: Mapping[str, Any], *, file: str = "<declaration>", base_dir: Path | None = None
) -> ElectionDeclaration:
    """Check a declaration's structure and build it; every error names the field and value."""
    if not isinstance(data, Mapping):
        raise InputError("an election declaration must be a JSON object", file=file)
    election_id = _require(data, "election_id", str, "declaration", file)
    if not _ELECTION_ID.fullmatch(election_id):
        # The id names folders (publications, reloads): it must be one plain name.
        raise InputError(
            "election_id may hold only letters, digits, '.', '_' and '-', starting with a letter or digit",
            file=file,
            column="election_id",
            rule="election_id_format",
            value=election_id,
        )
    lists_raw = data.get("lists")
    if not isinstance(lists_raw, list) or not lists_raw:
        raise InputError("declaration: 'lists' must be a non-empty array", file=file, column="lists")
    lists = []
    for i, item in enumerate(lists_raw, start=1):
        where = f"lists[{i}]"
        lists.append(
            PartyList(
                list_id=_require(item, "list_id", str, where, file),
                name=_require(item, "name", str, where, file),
                ballot_order=_require(item, "ballot_order", int, where, file),
                color=item.get("color"),
                candidates=item.get("candidates"),
                kind=_list_kind(item, where, file),
            )
        )
    regions_raw = data.get("regions")
    if not isinstance(regions_raw, list) or not regions_raw:
        raise InputError("declaration: 'regions' must be a non-empty array", file=file, column="regions")
    regions = tuple(
        Region(
            region_id=_require(item, "region_id", str, f"regions[{i}]", file),
            name=_require(item, "name", str, f"regions[{i}]", file),
            utc_offset_hours=item.get("utc_offset_hours"),
        )
        for i, item in enumerate(regions_raw, start=1)
    )
    if "precincts_csv" in data:
        if base_dir is None:
            raise InputError("declaration: 'precincts_csv' needs the declaration's folder", file=file)
        name = str(data["precincts_csv"])
        if "/" in name or "\\" in name or name.startswith(".."):
            raise InputError("precincts_csv must name a file beside the declaration", file=file, value=name)
        precincts, source = _read_precincts_csv(base_dir / name, file)
    else:
        raw = data.get("precincts")
        if not isinstance(raw, list) or not raw:
            raise InputError(
                "declaration: 'precincts' must be a non-empty array", file=file, column="precincts"
            )
        precincts = PrecinctTable.from_precincts(
            Precinct(
                precinct_id=_require(item, "precinct_id", str, f"precincts[{i}]", file),
                region_id=_require(item, "region_id", str, f"precincts[{i}]", file),
                registered_voters=_require(item, "registered_voters", int, f"precincts[{i}]", file),
            )
            for i, item in enumerate(raw, start=1)
        )
        source = _PrecinctSource(file)
    declaration = ElectionDeclaration(
        election_id=election_id,
        name=str(data.get("name", election_id)),
        date=_election_date(data, file),
        rule_profile=_require(data, "rule_profile", str, "declaration", file),
        lists=tuple(lists),
        regions=regions,
        precincts=precincts,
        against_all_on_ballot=bool(data.get("against_all_on_ballot", False)),
        synthetic=bool(data.get("synthetic", False)),
        source_note=str(data.get("source_note", "")),
    )
    _check_consistency(declaration, file)
    _check_precincts(precincts, regions, source)
    return declaration


def _check_consistency(decl: ElectionDeclaration, file: str) -> None:
    def dupes(values: list[str]) -> set[str]:
        seen: set[str] = set()
        return {v for v in values if v in seen or seen.add(v)}  # type: ignore[func-returns-value]

    for label, values in (
        ("list_id", [p.list_id for p in decl.lists]),
        ("ballot_order", [str(p.ballot_order) for p in decl.lists]),
        ("region_id", [r.region_id for r in decl.regions]),
    ):
        repeated = dupes(values)
        if repeated:
            raise InputError(
                f"declaration: {label} must be unique", file=file, column=label, value=sorted(repeated)[0]
            )


def _check_precincts(table: PrecinctTable, regions: tuple[Region, ...], source: _PrecinctSource) -> None:
    """Unique ids, declared regions, no negative counts: each refusal names the first row that breaks it."""
    ids = table.precinct_ids
    if not table.ids_are_unique():
        repeat = _first(pd.Series(ids.to_pandas()).duplicated().to_numpy()) or 0
        raise InputError(
            "declaration: precinct_id must be unique",
            file=source.file,
            row=source.row(repeat),
            column="precinct_id",
            rule="unique",
            value=ids[repeat].as_py(),
        )
    declared = pa.array([r.region_id for r in regions], type=pa.string())
    undeclared = _first(pc.invert(pc.is_in(table.region_ids, value_set=declared)))
    negative = _first(table.registered_voters < 0)
    if undeclared is not None and (negative is None or undeclared <= negative):
        raise InputError(
            f"precinct {ids[undeclared].as_py()} names an undeclared region",
            file=source.file,
            row=source.row(undeclared),
            column="region_id",
            rule="declared_region",
            value=table.region_ids[undeclared].as_py(),
        )
    if negative is not None:
        raise InputError(
            "registered_voters must be >= 0",
            file=source.file,
            row=source.row(negative),
            column="registered_voters",
            rule="non_negative",
            value=int(table.registered_voters[negative]),
        )


def read_named_file(folder: Path, reference: str, *, declaration: str, column: str, limit: int) -> bytes:
    """The bytes of a file a declaration names by a relative path inside its own folder.

    Checked before a byte is read: no absolute path and no '..' (a declaration and what it names
    travel together), no symbolic link anywhere on the way (never followed), a regular file of at
    most `limit` bytes. Every refusal names the declaration, the field and the value."""

    def refuse(message: str) -> InputError:
        return InputError(message, file=declaration, column=column, rule=column, value=reference)

    parts = PurePosixPath(reference).parts
    if not parts or reference.startswith("/") or "\\" in reference or ".." in parts:
        raise refuse(f"{column} must name a file inside the declaration's folder (no absolute path, no '..')")
    path = folder
    for part in parts:
        path = path / part
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            raise refuse(f"{column} names a file that is not in the declaration's folder") from None
        except OSError as exc:
            raise refuse(f"cannot read the file {column} names: {exc.strerror}") from None
        if stat.S_ISLNK(info.st_mode):
            raise refuse(f"{column} names a symbolic link, which is never followed")
    if not stat.S_ISREG(info.st_mode):
        raise refuse(f"{column} names something that is not a regular file")
    if info.st_size > limit:
        raise refuse(f"the file {column} names is larger than {limit} bytes")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise refuse(f"cannot read the file {column} names: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # replaced since it was looked at
            raise refuse(f"{column} names something that is not a regular file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise refuse(f"the file {column} names is larger than {limit} bytes")
    return data


def load_declaration(path: Path) -> ElectionDeclaration:
    """Read a declaration file; bad JSON is an InputError naming the line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError("declaration is not UTF-8 text", file=path.name) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON: {exc.msg} (column {exc.colno})", file=path.name, row=exc.lineno
        ) from None
    return parse_declaration(data, file=path.name, base_dir=path.parent)
