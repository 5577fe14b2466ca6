"""A native layout: how a commission's own per-station CSV reads as protocols (docs/layouts.md).

A layout is data: a YAML or JSON file checked against `schemas/layout.schema.json`. Its content in
canonical form (every default spelled out, so two spellings of one layout are one content) and that
content's SHA-256 are what a file's journaled receipt carries, so a replay reads the file with the
layout it was read with, never with whatever lies on disk by then.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from pipelines.core.errors import InputError
from pipelines.core.paths import LAYOUT_SCHEMA, LAYOUTS_DIR
from pipelines.core.schema_errors import error_path, first_schema_error, missing_field, unknown_field
from pipelines.domain.events import canonical_json
from pipelines.gate.intake import Refusal, read_intake_file

# A layout is a page of YAML; anything larger is not one.
LAYOUT_MAX_BYTES: Final = 1 << 20
# The figures a layout places, in the order of the protocol's columns; `None`: optional.
COUNT_FIELDS: Final = (
    "registered_voters",
    "ballots_issued",
    "ballots_cast",
    "invalid_ballots",
    "against_all",
)
REQUIRED_COUNTS: Final = frozenset({"registered_voters", "ballots_cast", "invalid_ballots"})

ColumnRef = str | int  # header text, or 1-based position


# The `sum_of` term that stands for every list's votes (the others are figures).
LIST_VOTES: Final = "list_votes"


@dataclass(frozen=True)
class RowsRule:
    """Long form: a record whose cell in `column` (stripped) matches `matches` whole carries a figure
    of its station in the votes column (summed when several do) and is no list."""

    column: ColumnRef
    matches: re.Pattern[str]


@dataclass(frozen=True)
class CountSource:
    """A figure: the value of one column, or the sum of several (`derived`); or the sum of other
    figures and the lists' votes (`sum_of`), a fixed `value`, or (long form) its station's `rows`,
    with what it is `otherwise` for a station that has none."""

    columns: tuple[ColumnRef, ...] = ()
    sum_of: tuple[str, ...] = ()
    value: int | None = None
    rows: tuple[RowsRule, ...] = ()  # any one matching suffices
    otherwise: CountSource | None = None

    @property
    def derived(self) -> bool:
        return len(self.columns) > 1 or bool(self.sum_of)

    def named_columns(self) -> tuple[ColumnRef, ...]:
        """The file's own columns this figure reads (a rows rule's, an otherwise's too)."""
        own = (*self.columns, *(rule.column for rule in self.rows))
        return own + (self.otherwise.named_columns() if self.otherwise is not None else ())


@dataclass(frozen=True)
class ListRule:
    """Which columns hold the lists' votes: named (`columns`), a span of positions, every other column,
    or (`long_list`, `long_votes`) one record per station and list, the list named in a column."""

    columns: tuple[ColumnRef, ...] = ()
    from_position: int | None = None
    to_position: int | None = None
    other_columns: bool = False
    ids: Mapping[str, str] | None = None
    kinds: Mapping[str, str] | None = None  # a list's kind by its name or id, for the declaration
    long_list: ColumnRef | None = None
    long_votes: ColumnRef | None = None
    long_agree_named: bool = False  # only the columns the layout reads must agree across a station
    long_missing_zero: bool = False  # a list a station has no record of got 0 votes there


@dataclass(frozen=True)
class SkipRule:
    """A record whose cell in `column` (stripped) matches `matches` whole is not a station."""

    column: ColumnRef
    matches: re.Pattern[str]


@dataclass(frozen=True)
class WhereItem:
    """An item of skip_where or keep_where: a record it matches meets every one of its conditions
    (one for `{column, matches}`, several for `{all: [...]}`: an office and its district)."""

    conditions: tuple[SkipRule, ...]


@dataclass(frozen=True)
class NativeLayout:
    layout_id: str
    description: str
    encoding: str
    delimiter: str
    quote: str
    decimal_separator: str | None
    thousands_separator: str | None
    skip_rows: int
    column_count: int | None
    precinct_columns: tuple[ColumnRef, ...]
    precinct_separator: str
    region: ColumnRef
    region_name: ColumnRef | None
    counts: Mapping[str, CountSource]  # by protocol column; optional figures absent
    version: ColumnRef | None
    reason: ColumnRef | None
    ignore: tuple[ColumnRef, ...]
    optional: tuple[ColumnRef, ...]  # named columns a file may lack
    lists: ListRule
    skip_where: tuple[WhereItem, ...]  # records that are not stations (totals lines)
    keep_where: tuple[WhereItem, ...]  # when given, only records one of these matches (one contest)
    content: Mapping[str, Any]  # canonical: what the journal carries
    sha256: str

    def describe(self) -> str:
        return f"layout {self.layout_id} (sha256 {self.sha256[:12]})"

    def read_columns(self) -> tuple[ColumnRef, ...]:
        """The columns the layout reads a figure, id or text from (not those it ignores)."""
        return tuple(c for c in self.named_columns() if c not in self.ignore)

    def named_columns(self) -> tuple[ColumnRef, ...]:
        """Every column the layout gives a meaning other than a list's votes."""
        named: list[ColumnRef] = [*self.precinct_columns, self.region, *self.ignore]
        extra = (self.region_name, self.version, self.reason, self.lists.long_list, self.lists.long_votes)
        named.extend(c for c in extra if c is not None)
        for source in self.counts.values():
            named.extend(source.named_columns())
        return tuple(dict.fromkeys(named))


def layout_sha256(content: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def _schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(LAYOUT_SCHEMA.read_text(encoding="utf-8"))
    return loaded


def _schema_error(data: Mapping[str, Any], file: str | None) -> InputError | None:
    error = first_schema_error(_schema(), data)
    if error is None:
        return None
    path = error_path(error) or None
    if error.validator == "required":
        column = missing_field(error)
        return InputError(f"layout: missing field {column!r}", file=file, column=column, rule="required")
    if error.validator == "additionalProperties":
        column = unknown_field(error)
        return InputError(f"layout: unknown field {column!r}", file=file, column=column, rule="unknown_field")
    message = error.message if len(error.message) <= 200 else error.message[:200] + "..."
    if error.validator == "oneOf" and path == "lists":
        message = "give exactly one of columns, from_position (with to_position), other_columns or long"
    if error.validator == "oneOf" and path is not None and path.split(".")[0] in ("skip_where", "keep_where"):
        message = "give {column, matches} or {all: [{column, matches}, ...]} (each matches a string)"
    return InputError(
        f"layout: {path or 'layout'}: {message}",
        file=file,
        column=path,
        rule=str(error.validator),
        value=None if isinstance(error.instance, Mapping | list) else error.instance,
    )


def _count(raw: Any, field: str, long_list: ColumnRef | None, file: str | None) -> CountSource:
    if not isinstance(raw, Mapping):
        return CountSource((raw,))
    if "sum" in raw:
        return CountSource(tuple(raw["sum"]))
    if "sum_of" in raw:
        return CountSource(sum_of=tuple(raw["sum_of"]))
    if "value" in raw:
        return CountSource(value=int(raw["value"]))
    if long_list is None:
        raise InputError(
            f"layout: {field}: rows carry a figure only in long form (lists: long)",
            file=file,
            column=f"{field}.rows",
            rule="rows_need_long",
        )
    given = raw["rows"]
    items = [given] if isinstance(given, Mapping) else list(given)
    rows = tuple(
        RowsRule(item.get("column", long_list), _pattern(item["matches"], f"{field}.rows.{n}.matches", file))
        for n, item in enumerate(items)
    )
    otherwise = raw.get("otherwise")
    return CountSource(
        rows=rows,
        otherwise=None if otherwise is None else _count(otherwise, f"{field}.otherwise", long_list, file),
    )


def _canonical_count(source: CountSource) -> Any:
    if source.rows:
        rows = [{"column": rule.column, "matches": rule.matches.pattern} for rule in source.rows]
        canonical: dict[str, Any] = {"rows": rows}
        if source.otherwise is not None:
            canonical["otherwise"] = _canonical_count(source.otherwise)
        return canonical
    if source.sum_of:
        return {"sum_of": list(source.sum_of)}
    if source.value is not None:
        return {"value": source.value}
    return {"sum": list(source.columns)} if source.derived else source.columns[0]


# Long-form options added later, and their defaults: a default is left out of the content (rather
# than spelled out), so that the content of a layout written before them is what it was.
_LONG_DEFAULTS: Final = {"agree": "all", "missing_list": "problem"}


def _canonical_lists(raw: Mapping[str, Any]) -> dict[str, Any]:
    lists = dict(raw)
    if "long" in lists:
        lists["long"] = {k: v for k, v in lists["long"].items() if _LONG_DEFAULTS.get(k) != v}
    return lists


def _check_sums(counts: Mapping[str, CountSource], file: str | None) -> None:
    """No figure is a part of its own `sum_of`, however indirectly (a term the layout does not place
    is against_all, which then counts 0: the schema requires the others)."""

    def parts(source: CountSource) -> tuple[str, ...]:
        return source.sum_of + (parts(source.otherwise) if source.otherwise is not None else ())

    for name, source in counts.items():
        seen, todo = {name}, [t for t in parts(source) if t in counts]
        while todo:
            term = todo.pop()
            if term == name:
                raise InputError(
                    f"layout: {name} is a part of itself through sum_of",
                    file=file,
                    column=name,
                    rule="sum_of_cycle",
                    value=term,
                )
            if term not in seen:
                seen.add(term)
                todo.extend(t for t in parts(counts[term]) if t in counts)


def parse_layout(data: object, *, file: str | None = None) -> NativeLayout:
    """Check a layout's data against the schema and build it; errors name the file, field and value."""
    if not isinstance(data, Mapping):
        raise InputError("a layout must be a mapping of fields", file=file, value=type(data).__name__)
    data = _extended(data, file)
    error = _schema_error(data, file)
    if error is not None:
        raise error
    encoding = str(data.get("encoding", "utf-8"))
    try:
        encoding = codecs.lookup(encoding).name
        "a".encode(encoding)  # a text encoding, not a transform such as hex or zlib (LookupError)
    except LookupError:
        raise InputError(
            "layout: unknown encoding", file=file, column="encoding", rule="encoding", value=encoding
        ) from None
    raw_precinct = data["precinct_id"]
    if isinstance(raw_precinct, Mapping):
        precinct_columns = tuple(raw_precinct["columns"])
        separator = str(raw_precinct.get("separator", "-"))
    else:
        precinct_columns, separator = (raw_precinct,), "-"
    raw_lists: Mapping[str, Any] = data["lists"]
    lists = ListRule(
        columns=tuple(raw_lists.get("columns", ())),
        from_position=raw_lists.get("from_position"),
        to_position=raw_lists.get("to_position"),
        other_columns=bool(raw_lists.get("other_columns", False)),
        ids=dict(raw_lists["ids"]) if "ids" in raw_lists else None,
        kinds=dict(raw_lists["kinds"]) if "kinds" in raw_lists else None,
        long_list=raw_lists["long"]["list_column"] if "long" in raw_lists else None,
        long_votes=raw_lists["long"]["votes_column"] if "long" in raw_lists else None,
        long_agree_named=raw_lists.get("long", {}).get("agree") == "named",
        long_missing_zero=raw_lists.get("long", {}).get("missing_list") == "zero",
    )
    if lists.from_position and lists.to_position and lists.to_position < lists.from_position:
        raise InputError(
            "layout: lists.to_position is before lists.from_position",
            file=file,
            column="lists.to_position",
            value=lists.to_position,
        )
    counts = {name: _count(data[name], name, lists.long_list, file) for name in COUNT_FIELDS if name in data}
    _check_sums(counts, file)
    for name in REQUIRED_COUNTS:
        needed = [c for c in counts[name].named_columns() if c in data.get("optional", ())]
        if needed:
            raise InputError(
                f"layout: {name} is required, its column cannot be optional",
                file=file,
                column="optional",
                value=needed[0],
            )
    delimiter, decimal, thousands = (
        str(data.get("delimiter", ",")),
        data.get("decimal_separator"),
        data.get("thousands_separator"),
    )
    if decimal is not None and decimal in (thousands, delimiter):
        raise InputError(
            "layout: the decimal separator must differ from the thousands separator and the delimiter",
            file=file,
            column="decimal_separator",
            value=decimal,
        )
    if thousands is not None and thousands == delimiter:
        raise InputError(
            "layout: the thousands separator must differ from the delimiter",
            file=file,
            column="thousands_separator",
            value=thousands,
        )
    skip_where = tuple(_skip_rule(n, item, file) for n, item in enumerate(data.get("skip_where", ())))
    keep_where = tuple(
        _skip_rule(n, item, file, field="keep_where") for n, item in enumerate(data.get("keep_where", ()))
    )
    content: dict[str, Any] = {
        "layout_id": data["layout_id"],
        "description": str(data.get("description", "")),
        "encoding": encoding,
        "delimiter": delimiter,
        "quote": str(data.get("quote", '"')),
        "decimal_separator": decimal,
        "thousands_separator": thousands,
        "skip_rows": int(data.get("skip_rows", 0)),
        "column_count": data.get("column_count"),
        "precinct_id": {"columns": list(precinct_columns), "separator": separator},
        "region": data["region"],
        "region_name": data.get("region_name"),
        **{name: _canonical_count(source) for name, source in counts.items()},
        "version": data.get("version"),
        "reason": data.get("reason"),
        "ignore": list(data.get("ignore", ())),
        "optional": list(data.get("optional", ())),
        "lists": _canonical_lists(raw_lists),
        "skip_where": [_canonical_where(item) for item in data["skip_where"]]
        if "skip_where" in data
        else None,
        # Fields added later are left out of the content when absent, so the content (and SHA-256)
        # of a layout that does not use them is what it was before they existed.
        "keep_where": [_canonical_where(item) for item in data["keep_where"]]
        if "keep_where" in data
        else None,
    }
    # Absent and null are one content; the separators' null is spelled, as the schema allows it.
    content = {k: v for k, v in content.items() if v is not None or k.endswith("_separator")}
    return NativeLayout(
        layout_id=str(content["layout_id"]),
        description=content["description"],
        encoding=encoding,
        delimiter=delimiter,
        quote=content["quote"],
        decimal_separator=decimal,
        thousands_separator=thousands,
        skip_rows=content["skip_rows"],
        column_count=data.get("column_count"),
        precinct_columns=precinct_columns,
        precinct_separator=separator,
        region=data["region"],
        region_name=data.get("region_name"),
        counts=counts,
        version=data.get("version"),
        reason=data.get("reason"),
        ignore=tuple(content["ignore"]),
        optional=tuple(content["optional"]),
        lists=lists,
        skip_where=skip_where,
        keep_where=keep_where,
        content=content,
        sha256=layout_sha256(content),
    )


def _extended(data: Mapping[str, Any], file: str | None, seen: tuple[str, ...] = ()) -> Mapping[str, Any]:
    """A layout that `extends` a shipped one: the shipped one's fields, each field it gives replacing
    the shipped one's (a whole field: a `keep_where` replaces the shipped `keep_where`)."""
    base_id = data.get("extends")
    if base_id is None:
        return data
    if not isinstance(base_id, str) or base_id not in shipped_layouts() or base_id in seen:
        shipped = ", ".join(shipped_layouts())
        raise InputError(
            f"layout: extends names no shipped layout (shipped: {shipped})",
            file=file,
            column="extends",
            rule="extends",
            value=base_id if isinstance(base_id, str | int) else None,
        )
    path = LAYOUTS_DIR / f"{base_id}.yaml"
    base = layout_data(path.read_bytes(), file=path.name)
    assert isinstance(base, Mapping)
    merged = {**_extended(base, path.name, (*seen, base_id)), **data}
    del merged["extends"]
    return merged


def _pattern(text: object, field: str, file: str | None) -> re.Pattern[str]:
    try:
        return re.compile(str(text))
    except re.error as exc:
        raise InputError(
            f"layout: not a regular expression: {exc}", file=file, column=field, rule="regex", value=text
        ) from None


def _skip_rule(
    number: int, item: Mapping[str, Any], file: str | None, field: str = "skip_where"
) -> WhereItem:
    if "all" not in item:
        return WhereItem(
            (SkipRule(item["column"], _pattern(item["matches"], f"{field}.{number}.matches", file)),)
        )
    return WhereItem(
        tuple(
            SkipRule(part["column"], _pattern(part["matches"], f"{field}.{number}.all.{m}.matches", file))
            for m, part in enumerate(item["all"])
        )
    )


def _canonical_where(item: Mapping[str, Any]) -> dict[str, Any]:
    # A one-condition item's content is the item as given, as it was before `all` existed.
    if "all" not in item:
        return dict(item)
    return {"all": [dict(part) for part in item["all"]]}


def layout_data(data: bytes, *, file: str) -> object:
    """The fields of a layout file's bytes: JSON when `file` ends in .json, else YAML."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("a layout file must be UTF-8 text", file=file, rule="encoding") from None
    try:
        if file.lower().endswith(".json"):
            return json.loads(text)
        return yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", file=file, row=exc.lineno, rule="json") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "syntax error"
        row = None if mark is None else mark.line + 1
        raise InputError(f"not valid YAML: {problem}", file=file, row=row, rule="yaml") from None


def shipped_layouts() -> tuple[str, ...]:
    """Layout ids shipped in schemas/layouts/."""
    return tuple(sorted(p.stem for p in LAYOUTS_DIR.glob("*.yaml")))


def load_layout(reference: str) -> NativeLayout:
    """A shipped layout by id (`protocol-v1` -> schemas/layouts/protocol-v1.yaml), or a layout file by
    path, read the way intake reads a received file: never through a link, a regular file of at most
    1 MiB."""
    if reference in shipped_layouts():
        path = LAYOUTS_DIR / f"{reference}.yaml"
        return parse_layout(layout_data(path.read_bytes(), file=path.name), file=path.name)
    data = read_intake_file(Path(reference), limit=LAYOUT_MAX_BYTES)
    if isinstance(data, Refusal):
        shipped = ", ".join(shipped_layouts())
        raise InputError(
            f"layout {data.message} (shipped layouts: {shipped})", file=reference, rule=data.rule
        )
    return parse_layout(layout_data(data, file=reference), file=reference)


def layout_from_content(content: Mapping[str, Any], sha256: str | None = None) -> NativeLayout:
    """A layout from the canonical content a journal carried; its SHA-256 must match when given."""
    layout = parse_layout(dict(content), file="<journaled layout>")
    if sha256 is not None and layout.sha256 != sha256:
        raise InputError(
            f"the journaled layout {layout.layout_id} does not match its SHA-256",
            rule="layout_sha256",
            value=sha256,
        )
    return layout


NATIVE_FORMAT: Final = "native"  # the journaled format of a results file read through a layout


def layout_options(layout: NativeLayout) -> dict[str, Any]:
    """What a file's journaled receipt carries of the layout it was read with: content and SHA-256."""
    return {"format": NATIVE_FORMAT, "layout": dict(layout.content), "layout_sha256": layout.sha256}


def layout_from_options(options: Mapping[str, Any]) -> NativeLayout | None:
    """The layout a journaled receipt names (None for a file read without one): from its content in
    the journal, never from a file on disk."""
    content = options.get("layout")
    if not isinstance(content, Mapping):
        return None
    sha256 = options.get("layout_sha256")
    return layout_from_content(content, None if sha256 is None else str(sha256))
