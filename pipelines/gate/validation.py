"""The validation gate: one batch file in, accepted rows + quarantined rows/file + anomaly flags out.

The file is read as text (`pipelines.gate.protocol_format`); the blocking rules are the GX suites in
`schemas/expectations/`, run on two pandas frames per file: the row frame (raw text cells, parsed
counts and lookups from the declaration and the reported protocols) and the cell frame (one row per
file row and count column), so the number of expectations does not grow with the number of lists.
GX's per-row and per-cell failures become the row rejections. The gate never writes events: the
caller appends `accepted` and records the rest. See docs/validation.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.domain.election import ElectionDeclaration
from pipelines.gate.anomalies import Anomaly, AnomalyThresholds, protocol_anomalies, totals_moved_backwards
from pipelines.gate.expectation_suites import ExpectationSpec, cell_suite, expand_suite
from pipelines.gate.gx_runtime import ExpectationFailure, FrameCheck, run_suite
from pipelines.gate.protocol_format import (
    ANNULMENT_COLUMNS,
    PROTOCOL_COLUMNS,
    PROTOCOL_NUMBERS,
    PROTOCOL_OPTIONAL,
    PROTOCOL_REQUIRED,
    FileKind,
    FormatRejection,
    RawTable,
    read_raw_table,
    sniff_kind,
)

__all__ = [
    "Anomaly",
    "FileRejection",
    "FileToValidate",
    "ReportedProtocol",
    "RowRejection",
    "ValidationOutcome",
    "ValidationPolicy",
    "accepted_columns",
    "totals_moved_backwards",
    "validate_file",
    "validate_files",
]

# Per-cell cap on any count: the largest polling stations hold a few thousand voters, so ten million in
# one cell is a typing or export error. It also keeps every sum of 20+ columns exact in float64 (< 2**53).
COUNT_CAP = 10_000_000

_COUNTS_REQUIRED = ("registered_voters", "ballots_cast", "invalid_ballots")
_COUNTS_OPTIONAL = ("ballots_issued", "against_all", "version")
_PROTOCOL_HEAD = ("row", *PROTOCOL_COLUMNS)
_ANNULMENT_HEAD = ("row", *ANNULMENT_COLUMNS)
_WHOLE = "^[+-]?[0-9]+$"
_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default "str" dtype
_RESERVED_NAMES = frozenset({"row", *PROTOCOL_REQUIRED, *PROTOCOL_OPTIONAL, *ANNULMENT_COLUMNS})


@dataclass(frozen=True)
class ReportedProtocol:
    """The accepted protocol of a precinct: its version and figures (counts and list id -> votes)."""

    version: int
    figures: Mapping[str, int]


@dataclass(frozen=True)
class ValidationPolicy:
    """How strict the gate is for one election.

    `day_allowance`: how far ballots_issued may exceed registered_voters. A Fraction is a share of the
    precinct's registered voters (rounded down), an int an absolute number of voters. Default 0, since the
    protocol's registered_voters already counts voters added on the day (schemas/protocol_csv.md); an
    election whose protocols report the opening roll sets e.g. Fraction(1, 20).
    """

    mode: Literal["row", "file"] = "row"
    day_allowance: Fraction | int = Fraction(0)
    amendment_change_share: Fraction = Fraction(1, 10)
    turnout_flag_share: Fraction = Fraction(95, 100)
    dominant_list_share: Fraction = Fraction(95, 100)
    invalid_flag_share: Fraction = Fraction(1, 10)
    count_cap: int = COUNT_CAP

    def to_options(self) -> dict[str, Any]:
        """The policy as JSON for the input journal (fractions as text such as "1/20"), so that a
        replay validates a file exactly as it was validated: `from_options` reads it back."""
        return {
            name: str(value) if isinstance(value, Fraction) else value for name, value in vars(self).items()
        }

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> ValidationPolicy:
        """The policy journaled by `to_options`; fields it lacks keep their defaults."""
        values: dict[str, Any] = {
            name: Fraction(value) if isinstance(value, str) and name != "mode" else value
            for name, value in options.items()
        }
        return cls(**values)

    def thresholds(self) -> AnomalyThresholds:
        return AnomalyThresholds(
            turnout_share=self.turnout_flag_share,
            dominant_list_share=self.dominant_list_share,
            invalid_share=self.invalid_flag_share,
            amendment_change_share=self.amendment_change_share,
        )


@dataclass(frozen=True)
class RowRejection:
    file: str
    row: int
    column: str | None
    rule: str
    value: str | None
    message: str
    precinct_id: str | None


@dataclass(frozen=True)
class FileRejection:
    file: str
    rule: str
    message: str


@dataclass
class ValidationOutcome:
    file: str
    kind: FileKind
    accepted: pd.DataFrame
    rejections: list[RowRejection]
    file_rejection: FileRejection | None
    anomalies: list[Anomaly]
    data_docs: Path | None
    rows_read: int = 0
    expectations_run: int = 0
    notes: list[str] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        """One plain line per quarantined file or row, with its reason(s)."""
        lines: list[str] = []
        if self.file_rejection is not None:
            fr = self.file_rejection
            lines.append(f"file {fr.file}: whole file quarantined: {fr.message} [rule: {fr.rule}]")
        by_row: dict[int, list[RowRejection]] = {}
        for rejection in self.rejections:
            by_row.setdefault(rejection.row, []).append(rejection)
        for row in sorted(by_row):
            first = by_row[row][0]
            where = f"file {first.file}, row {row}"
            if first.precinct_id:
                where += f" (precinct {first.precinct_id})"
            reasons = []
            for r in by_row[row]:
                text = f"{r.message} [rule: {r.rule}]"
                if r.column is not None:
                    text = f"column {r.column!r}: {text}"
                if r.value is not None:
                    text += f" [value: {r.value!r}]"
                reasons.append(text)
            lines.append(f"{where}: row quarantined: " + "; ".join(reasons))
        return lines


def accepted_columns(kind: FileKind, list_ids: Sequence[str]) -> tuple[str, ...]:
    """Columns of `ValidationOutcome.accepted` for a file of `kind`."""
    return (*_PROTOCOL_HEAD, *list_ids) if kind == "protocol" else _ANNULMENT_HEAD


def _empty_accepted(kind: FileKind, list_ids: Sequence[str]) -> pd.DataFrame:
    columns = accepted_columns(kind, list_ids)
    text = {"election_id", "precinct_id", "region", "reason", "decided_by"}
    return pd.DataFrame({name: pd.Series([], dtype="str" if name in text else "int64") for name in columns})


def _parse_counts(text: pd.Series, *, default: pd.Series | float | None = None) -> pd.Series:
    """Whole numbers as float64; NaN where the text is not one (the suite reports those); +-inf if huge.

    With `default`, an empty cell takes the default instead of NaN.
    """
    cells = pa.array(text)
    # Unsigned digits are checked several times faster than by the regex, which decides the rest.
    digits = pc.ascii_is_decimal(cells)
    is_int = digits if pc.all(digits).as_py() is not False else pc.match_substring_regex(cells, _WHOLE)
    huge = pc.and_(is_int, pc.greater(pc.utf8_length(cells), 15))
    readable = pc.and_not(is_int, huge)
    # Arrow's cast is several times faster than pd.to_numeric on text, and exact for <= 15 digits.
    whole = pc.cast(pc.if_else(readable, cells, pa.scalar(None, cells.type)), pa.float64())
    values = pd.Series(whole.to_numpy(zero_copy_only=False), index=text.index, dtype="float64")
    if pc.any(huge).as_py():
        negative = pc.starts_with(cells, "-").to_numpy(zero_copy_only=False)
        values = values.mask(_flags(huge), np.where(negative, -np.inf, np.inf))
    if default is not None:
        values = values.mask(_flags(pc.equal(cells, "")), default)
    return values


def _flags(mask: Any) -> np.ndarray:
    flags: np.ndarray = np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)
    return flags


def _allowance_limit(registered: pd.Series, allowance: Fraction | int, cap: int) -> pd.Series:
    """registered + allowance, the allowance of a share rounded down in exact integer arithmetic.

    Cells that are not counts stay NaN; counts above the cap (rejected anyway) are computed at the cap.
    """
    if not isinstance(allowance, Fraction):
        return registered + int(allowance)
    whole = registered.clip(lower=0, upper=cap).fillna(0).astype("int64").astype(object)
    extra = (whole * allowance.numerator // allowance.denominator).astype("float64")
    return (registered + extra).where(registered.notna())


def _declared_regions(election: ElectionDeclaration, precinct_ids: pd.Series) -> pd.Series:
    """Each row's declared region, missing for a precinct the declaration does not hold.

    The cost follows the file: the declaration may hold just the file's precincts, or every precinct
    of the election, whose table keeps an index for picking a file's precincts out.
    """
    ids = pc.cast(pa.array(precinct_ids), pa.string())
    declared = election.precinct_table()
    if len(declared) > 2 * len(ids):
        declared = declared.subset(ids)
    found = pc.index_in(ids, value_set=declared.precinct_ids)
    return pd.Series(pc.take(declared.region_ids, found), index=precinct_ids.index, dtype=_TEXT)


@dataclass(frozen=True)
class _Batch:
    frame: pd.DataFrame  # what GX validates
    groups: dict[str, list[str]]
    parameters: dict[str, Any]


def _protocol_batch(
    table: RawTable,
    election: ElectionDeclaration,
    reported: Mapping[str, ReportedProtocol],
    policy: ValidationPolicy,
) -> _Batch:
    raw = table.frame
    present = set(table.columns)
    lists = list(election.list_ids)
    columns: dict[str, pd.Series] = {name: raw[name] for name in raw.columns}
    empty_text = pd.Series([""] * len(raw), dtype="str", index=raw.index)
    reason = raw["reason"] if "reason" in present else empty_text
    columns["reason"] = reason
    for name in (*_COUNTS_REQUIRED, *lists):
        columns[f"n__{name}"] = _parse_counts(raw[name])
    cast = columns["n__ballots_cast"]
    defaults: dict[str, pd.Series | float] = {"ballots_issued": cast, "against_all": 0.0, "version": 1.0}
    for name in _COUNTS_OPTIONAL:
        if name in present:
            columns[f"n__{name}"] = _parse_counts(raw[name], default=defaults[name])
        else:
            default = defaults[name]
            columns[f"n__{name}"] = (
                default if isinstance(default, pd.Series) else pd.Series(default, index=raw.index)
            )
    columns["d__declared_region"] = _declared_regions(election, raw["precinct_id"])
    columns["d__precinct_in_file"] = raw["precinct_id"]  # files stacked together: see `_in_file`
    # An undeclared region is reported as such, not also as a mismatch.
    columns["d__known_region"] = raw["region"].where(
        raw["region"].isin({r.region_id for r in election.regions})
    )
    # Exact: whole numbers below the cap, so every partial sum stays below 2**53; NaN if any part is.
    # Added in place: np.sum over the list would first copy every part into one 2-D array.
    first, *rest = (columns[f"n__{name}"].to_numpy() for name in (*lists, "against_all", "invalid_ballots"))
    parts = first.copy()
    for part in rest:
        parts += part
    columns["d__sum_of_parts"] = pd.Series(parts, index=raw.index)
    columns["d__issued_limit"] = _allowance_limit(
        columns["n__registered_voters"], policy.day_allowance, policy.count_cap
    )
    version = columns["n__version"]
    reported_version = (
        raw["precinct_id"].map({k: float(v.version) for k, v in reported.items()})
        if reported
        else pd.Series(np.nan, index=raw.index)
    )
    amendment = version > 1
    columns["d__amended_version"] = reported_version.fillna(0.0).where(amendment)
    columns["d__amendment_reason"] = reason.where(amendment)
    frame = pd.DataFrame(columns)
    optional_present = [name for name in _COUNTS_OPTIONAL if name in present]
    groups: dict[str, list[str]] = {
        "required_counts": [*_COUNTS_REQUIRED, *lists],
        "optional_counts": optional_present,
        "nonnegative_counts": [*_COUNTS_REQUIRED, *lists, *(n for n in optional_present if n != "version")],
        "text_columns": [n for n in ("election_id", "precinct_id", "region", "reason") if n in present],
        "against_all_off_ballot": (
            ["against_all"] if "against_all" in present and not election.against_all_on_ballot else []
        ),
        "version_present": ["version"] if "version" in present else [],
        "ballots_issued_present": ["ballots_issued"] if "ballots_issued" in present else [],
    }
    parameters = {
        "election_ids": [election.election_id],
        "region_ids": sorted(r.region_id for r in election.regions),
        "count_cap": policy.count_cap,
    }
    return _Batch(frame, groups, parameters)


def _annulment_batch(table: RawTable, election: ElectionDeclaration) -> _Batch:
    raw = table.frame
    frame = raw.assign(
        d__declared_region=_declared_regions(election, raw["precinct_id"]),
        d__precinct_in_file=raw["precinct_id"],
    )
    groups = {"text_columns": list(ANNULMENT_COLUMNS)}
    return _Batch(frame, groups, {"election_ids": [election.election_id]})


def _row_frame(frame: pd.DataFrame, expectations: Sequence[ExpectationSpec]) -> pd.DataFrame:
    """`row` and the columns the row expectations read: GX copies the frame per rule, so keep it narrow."""
    used = {"row"}
    for spec in expectations:
        used.update(str(spec.kwargs[key]) for key in ("column", "column_A", "column_B") if key in spec.kwargs)
    return frame[[name for name in frame.columns if name in used]]


@dataclass(frozen=True)
class _Cells:
    """The file's distinct cells per column, GX's cell frame, and which file rows hold each of them.

    The cell rules judge a cell by its column, text and parsed count only, so GX runs them once per
    distinct cell (a count column of 100,000 rows holds a few thousand) instead of once per row and
    column; a failing cell is then the failure of every row that holds it.
    """

    frame: pd.DataFrame  # `cell_frame` of the suite file; `row` is the first file row holding the cell
    rows: np.ndarray  # the file row of each record of the batch
    codes: Mapping[str, np.ndarray]  # per column: for each record, the position of its cell in `firsts`
    firsts: Mapping[str, np.ndarray]  # per column: the record position of each distinct cell's first holder


_SAMPLE = 1000


def _distinct(text: pd.Series, count: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Per record the code of its (text, count) pair, and the first record of each code."""
    if len(text) > _SAMPLE and not text.iloc[:_SAMPLE].duplicated().any():
        # A column of distinct texts (precinct ids): hashing it would find nothing to share.
        every = np.arange(len(text))
        return every, every
    codes, _ = pd.factorize(text)
    firsts = _first_holders(codes)
    if count is not None and not _same_where_same(count, codes, firsts):
        # An empty optional cell takes a default from its row (ballots_issued: ballots_cast).
        count_codes, _ = pd.factorize(count, use_na_sentinel=False)
        codes, _ = pd.factorize(codes.astype("int64") * (int(count_codes.max()) + 1) + count_codes)
        firsts = _first_holders(codes)
    return codes, firsts


def _first_holders(codes: np.ndarray) -> np.ndarray:
    """factorize numbers codes in order of first appearance: a first holder is where their maximum grows."""
    if len(codes) == 0:
        return codes
    highest = np.maximum.accumulate(codes)
    return np.flatnonzero(np.concatenate([[True], highest[1:] > highest[:-1]]))


def _same_where_same(values: np.ndarray, codes: np.ndarray, firsts: np.ndarray) -> bool:
    """Whether records of one code hold one value (NaN equal to NaN)."""
    first = values[firsts][codes]
    return bool(np.all((values == first) | (np.isnan(values) & np.isnan(first))))


def _cell_frame(frame: pd.DataFrame, groups: Mapping[str, Sequence[str]]) -> _Cells:
    """One record per distinct (column, text, count) cell of the count and text columns."""
    required = groups.get("required_counts", [])
    optional = groups.get("optional_counts", [])
    bounded = set(groups.get("nonnegative_counts", []))
    texts = list(groups.get("text_columns", []))
    names = [*required, *optional, *texts]
    rows = frame["row"].to_numpy(dtype="int64")
    codes: dict[str, np.ndarray] = {}
    firsts: dict[str, np.ndarray] = {}
    cell_texts: list[pa.Array] = []
    counts: list[np.ndarray] = []
    for name in names:
        count = frame[f"n__{name}"].to_numpy(dtype="float64") if name in bounded else None
        codes[name], firsts[name] = _distinct(frame[name], count)
        # One Arrow array each: pa.chunked_array converts chunked ones cell by cell, in Python.
        cell_texts.append(
            pa.chunked_array(pa.array(frame[name])).take(pa.array(firsts[name])).combine_chunks()
        )
        counts.append(count[firsts[name]] if count is not None else np.full(len(firsts[name]), np.nan))
    sizes = [len(firsts[name]) for name in names]

    def text_of(group: Collection[str]) -> pd.Series:
        """The cells' text where their column is in `group`, null elsewhere."""
        chunks = [
            text if name in group else pa.nulls(len(text), pa.large_string())
            for name, text in zip(names, cell_texts, strict=True)
        ]
        return pd.Series(pa.chunked_array(chunks, type=pa.large_string()), dtype=_TEXT)

    cells = pd.DataFrame(
        {
            "row": np.concatenate([rows[firsts[name]] for name in names]),
            "column": pd.Categorical.from_codes(np.repeat(np.arange(len(names)), sizes), categories=names),
            "required_text": text_of(required),
            "optional_text": text_of(optional),
            "free_text": text_of(texts),
            "count": np.concatenate(counts),
        }
    )
    return _Cells(cells, rows, codes, firsts)


def _cell_failures(failure: ExpectationFailure, cells: _Cells) -> ExpectationFailure:
    """A cell expectation's failing distinct cells as the failure of every file row holding them."""
    first_rows = pd.DataFrame({"row": failure.rows, "column": failure.columns})
    found: list[tuple[int, str]] = []
    for name, group in first_rows.groupby("column", sort=False):
        column = str(name)
        position_of = {int(row): code for code, row in enumerate(cells.rows[cells.firsts[column]])}
        failing = [position_of[int(row)] for row in group["row"]]
        held = np.isin(cells.codes[column], failing)
        found.extend((int(row), column) for row in cells.rows[held])
    found.sort()
    return ExpectationFailure(failure.spec, tuple(r for r, _ in found), tuple(c for _, c in found))


def _whole(values: pd.Series) -> list[str]:
    return [f"{v:.0f}" for v in values]


def _details(rule: str, rows: pd.DataFrame) -> list[str]:
    """Figures behind an arithmetic rule, so the operator sees by how much it fails."""
    if rule == "does_not_add_up":
        pairs = zip(_whole(rows["d__sum_of_parts"]), _whole(rows["n__ballots_cast"]), strict=True)
        return [f" (parts sum to {a}, ballots_cast is {b})" for a, b in pairs]
    if rule == "cast_exceeds_issued":
        pairs = zip(_whole(rows["n__ballots_cast"]), _whole(rows["n__ballots_issued"]), strict=True)
        return [f" ({a} cast, {b} issued)" for a, b in pairs]
    if rule == "issued_exceeds_registered":
        pairs = zip(_whole(rows["n__ballots_issued"]), _whole(rows["d__issued_limit"]), strict=True)
        return [f" ({a} issued, limit {b})" for a, b in pairs]
    if rule == "amendment_version_not_higher":
        return [f" (accepted version is {v})" for v in _whole(rows["d__amended_version"])]
    return [""] * len(rows)


def _reported_column(spec: ExpectationSpec, table: RawTable) -> str:
    if spec.column not in table.columns and spec.column == "ballots_issued":
        return "ballots_cast"  # ballots_issued absent from the file: it was taken from ballots_cast
    return spec.column


def _rejections_from_failures(
    failures: Sequence[ExpectationFailure], table: RawTable, batch: pd.DataFrame, file: str
) -> list[RowRejection]:
    by_row = batch.set_index("row", drop=False)
    out: list[RowRejection] = []
    for failure in failures:
        spec = failure.spec
        if failure.columns:
            out.extend(_cell_rejections(failure, by_row, file))
            continue
        column = _reported_column(spec, table)
        rows = by_row.loc[list(failure.rows)]
        values: list[str | None] = (
            [str(v) for v in rows[column]] if column in table.columns else [None] * len(rows)
        )
        precincts = [str(p) for p in rows["precinct_id"]]
        details = _details(spec.rule, rows)
        out.extend(
            RowRejection(file, row, column, spec.rule, value, spec.message + detail, precinct)
            for row, value, detail, precinct in zip(failure.rows, values, details, precincts, strict=True)
        )
    return out


def _cell_rejections(failure: ExpectationFailure, by_row: pd.DataFrame, file: str) -> list[RowRejection]:
    """A cell expectation's failures, column by column: the column is that of the failing cell."""
    spec = failure.spec
    cells = pd.DataFrame({"row": failure.rows, "column": failure.columns})
    out: list[RowRejection] = []
    for cell_column, group in cells.groupby("column", sort=False):
        column = str(cell_column)
        rows = [int(r) for r in group["row"]]
        found = by_row.loc[rows]
        message = spec.message_for(column)
        reported = spec.column_for(column)
        out.extend(
            RowRejection(file, row, reported, spec.rule, str(value), message, str(precinct))
            for row, value, precinct in zip(rows, found[column], found["precinct_id"], strict=True)
        )
    return out


def _normalised_protocols(batch: pd.DataFrame, list_ids: Sequence[str]) -> pd.DataFrame:
    # Plain arrays, so the frame is built once with a fresh index and its counts as one int64 block.
    out: dict[str, Any] = {"row": batch["row"].to_numpy(dtype="int64")}
    for name in ("election_id", "precinct_id", "region"):
        out[name] = batch[name].astype("str").array
    # Only rows that passed every rule are converted, so every value is a finite whole number <= the cap.
    for name in PROTOCOL_NUMBERS:
        out[name] = batch[f"n__{name}"].to_numpy(dtype="int64")
    out["reason"] = batch["reason"].astype("str").array
    for name in list_ids:
        out[name] = batch[f"n__{name}"].to_numpy(dtype="int64")
    return pd.DataFrame(out)


@dataclass(frozen=True)
class FileToValidate:
    """One file for `validate_files`: where it is, the name problems give it, and what it is judged by
    (its election with the declared precincts it names, and their protocols in force)."""

    path: Path
    display_name: str
    election: ElectionDeclaration
    reported: Mapping[str, ReportedProtocol]
    # A native file already read through its layout (`pipelines.gate.native_table.protocol_table`).
    table: RawTable | FormatRejection | None = None


def validate_file(
    path: Path,
    *,
    display_name: str,
    election: ElectionDeclaration,
    reported: Mapping[str, ReportedProtocol],
    policy: ValidationPolicy = ValidationPolicy(),
    data_docs_dir: Path | None = None,
) -> ValidationOutcome:
    """Validate one protocol or annulment file for `election`; never raises for bad data."""
    file = FileToValidate(path, display_name, election, reported)
    return validate_files([file], policy=policy, data_docs_dir=data_docs_dir)[0]


def validate_files(
    files: Sequence[FileToValidate],
    *,
    policy: ValidationPolicy = ValidationPolicy(),
    data_docs_dir: Path | None = None,
) -> list[ValidationOutcome]:
    """Validate files of one ingest run together; each outcome is what `validate_file` gives alone.

    Files of one kind with the same columns, judged by the same declaration and protocols in force,
    are stacked into one table (each file's rows numbered past the previous file's) and go through
    the gate as one batch: one GX run, and the table-wide work (parsing counts, the checks, accepted
    rows, anomaly flags) once; the results are then given back to their files. GX's fixed cost per
    run and pandas' per frame are paid once per group of files, not once per file. One Data Docs page
    shows the run.
    """
    outcomes: list[ValidationOutcome | None] = [None] * len(files)
    stacks: dict[tuple[Any, ...], list[tuple[int, RawTable]]] = {}
    for number, file in enumerate(files):
        table = _raw_table(file)
        if isinstance(table, ValidationOutcome):
            outcomes[number] = table
            continue
        key = (table.kind, table.columns, id(file.election), id(file.reported))
        stacks.setdefault(key, []).append((number, table))
    for members in stacks.values():
        chosen = [files[number] for number, _ in members]
        tables = [table for _, table in members]
        for (number, _), outcome in zip(
            members, _validate_stacked(chosen, tables, policy, data_docs_dir), strict=True
        ):
            outcomes[number] = outcome
    return [outcome for outcome in outcomes if outcome is not None]


def _raw_table(file: FileToValidate) -> RawTable | ValidationOutcome:
    """The file's table, or its outcome when it is refused before any rule runs."""
    list_ids = file.election.list_ids
    clash = sorted(i for i in list_ids if i in _RESERVED_NAMES or i.startswith(("n__", "d__")))
    table: RawTable | FormatRejection
    if clash:
        table = FormatRejection(
            "list_id_clash", f"declared list id {clash[0]!r} collides with a protocol column name"
        )
    elif file.table is not None:
        table = file.table
    else:
        table = read_raw_table(file.path, list_ids=list_ids)
    if isinstance(table, FormatRejection):
        return ValidationOutcome(
            file=file.display_name,
            kind=(guessed := sniff_kind(file.path) if file.table is None else "protocol"),
            accepted=_empty_accepted(guessed, list_ids),
            rejections=[],
            file_rejection=FileRejection(file.display_name, table.rule, table.message),
            anomalies=[],
            data_docs=None,
        )
    return table


def _stacked(tables: Sequence[RawTable]) -> tuple[RawTable, np.ndarray]:
    """One table of the tables' records, each table's rows moved past the highest row before them,
    and where each table's rows start."""
    starts: list[int] = []
    cells: list[pa.Table] = []
    offset = 0
    for table in tables:
        starts.append(offset)
        rows = table.cells.column(0)
        cells.append(table.cells.set_column(0, "row", pc.add(rows, offset)) if offset else table.cells)
        highest = max([pc.max(rows).as_py() or 0, *(p.row for p in table.row_problems)])
        offset += highest + 1
    first = tables[0]
    if len(tables) == 1:
        return first, np.array(starts, dtype="int64")
    # One table and so one pandas frame for the stack: building a frame per file cost more than GX.
    stacked = pa.concat_tables(cells).combine_chunks()
    return RawTable(first.kind, first.columns, stacked, (), False, "none"), np.array(starts, dtype="int64")


def _in_file(batch: _Batch, starts: np.ndarray) -> _Batch:
    """A stacked batch whose precinct ids are told apart by file: a precinct must be unique within a
    file (rule duplicate_precinct), and two files naming one precinct are not a duplicate."""
    frame = batch.frame
    text = pa.large_string()
    owner = pc.cast(pa.array(_owners(frame["row"], starts)), text)
    precinct = pc.cast(pa.array(frame["precinct_id"]), text)
    keys = pc.binary_join_element_wise(owner, precinct, pa.scalar("/", text))
    keyed = frame.assign(d__precinct_in_file=pd.Series(keys, index=frame.index, dtype=_TEXT))
    return _Batch(keyed, batch.groups, batch.parameters)


def _owners(rows: Any, starts: np.ndarray) -> np.ndarray:
    """For each stacked row number, which table it came from."""
    owners: np.ndarray = np.searchsorted(starts, np.asarray(rows, dtype="int64"), side="right") - 1
    return owners


def _validate_stacked(
    files: Sequence[FileToValidate],
    tables: Sequence[RawTable],
    policy: ValidationPolicy,
    data_docs_dir: Path | None,
) -> list[ValidationOutcome]:
    """The gate over files that share a suite, stacked into one batch; an outcome per file."""
    first = files[0]
    election, list_ids = first.election, first.election.list_ids
    stacked, starts = _stacked(tables)
    kind = stacked.kind
    batch = (
        _protocol_batch(stacked, election, first.reported, policy)
        if kind == "protocol"
        else _annulment_batch(stacked, election)
    )
    if len(tables) > 1:
        batch = _in_file(batch, starts)
    suite_name = f"{kind}-v1"
    row_rules = expand_suite(suite_name, batch.groups)
    checks = [FrameCheck(_row_frame(batch.frame, row_rules), row_rules)]
    cells = None
    if cell_rules := cell_suite(suite_name):
        cells = _cell_frame(batch.frame, batch.groups)
        checks.append(FrameCheck(cells.frame, cell_rules, ("row", "column")))
    names = [file.display_name for file in files]
    run = run_suite(
        checks,
        suite_name=suite_name,
        parameters=batch.parameters,
        run_name=names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more file(s)",
        data_docs_dir=data_docs_dir,
    )
    failures = [
        _cell_failures(failure, cells) if failure.columns and cells is not None else failure
        for failure in run.failures
    ]
    found = _rejections_from_failures(failures, stacked, batch.frame, "")
    rejections: list[list[RowRejection]] = [
        [RowRejection(name, p.row, p.column, p.rule, p.value, p.message, None) for p in table.row_problems]
        for name, table in zip(names, tables, strict=True)
    ]
    for rejection, owner in zip(found, _owners([r.row for r in found], starts), strict=True):
        local = rejection.row - int(starts[owner])
        rejections[owner].append(dataclasses.replace(rejection, file=names[owner], row=local))
    rejected = {r.row + int(starts[owner]) for owner, mine in enumerate(rejections) for r in mine}
    passed = batch.frame[~batch.frame["row"].isin(rejected)]
    if kind == "protocol":
        accepted = _normalised_protocols(passed, list_ids)
    else:
        accepted = passed[list(_ANNULMENT_HEAD)].reset_index(drop=True)
    refused_whole = [policy.mode == "file" and bool(mine) for mine in rejections]
    owners = _owners(accepted["row"], starts)
    if any(refused_whole):
        accepted = accepted[~np.asarray(refused_whole)[owners]].reset_index(drop=True)
        owners = _owners(accepted["row"], starts)
    anomalies: list[list[Anomaly]] = [[] for _ in files]
    if kind == "protocol":
        amended = accepted.loc[accepted["version"] > 1, "precinct_id"]
        earlier = {p: first.reported[p].figures for p in amended if p in first.reported}
        flagged = protocol_anomalies(
            accepted, list_ids=list_ids, earlier_votes=earlier, thresholds=policy.thresholds(), file=None
        )
        for anomaly, owner in zip(flagged, _owners([a.row for a in flagged], starts), strict=True):
            local = int(anomaly.row or 0) - int(starts[owner])
            anomalies[owner].append(dataclasses.replace(anomaly, file=names[owner], row=local))
    bounds = np.searchsorted(owners, np.arange(len(files) + 1), side="left")
    if len(files) > 1:  # every file's rows back to its own numbers at once, not a frame copy per file
        accepted = accepted.assign(row=accepted["row"].to_numpy() - starts[owners])
    outcomes = []
    for number, (name, table) in enumerate(zip(names, tables, strict=True)):
        mine = accepted.iloc[bounds[number] : bounds[number + 1]].reset_index(drop=True)
        file_rejection = None
        if refused_whole[number]:
            rows = len({r.row for r in rejections[number]})
            file_rejection = FileRejection(
                name,
                "rows_rejected_under_file_policy",
                f"{rows} row(s) broke a rule and this election's policy quarantines the whole file",
            )
            mine = _empty_accepted(kind, list_ids)
        rejections[number].sort(key=lambda r: (r.row, r.rule, r.column or ""))
        outcomes.append(
            ValidationOutcome(
                file=name,
                kind=kind,
                accepted=mine,
                rejections=rejections[number],
                file_rejection=file_rejection,
                anomalies=anomalies[number],
                data_docs=run.docs_index,
                rows_read=table.cells.num_rows + len(table.row_problems),
                expectations_run=run.evaluated,
            )
        )
    return outcomes
