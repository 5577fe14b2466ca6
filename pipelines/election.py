"""The declared election: lists in ballot order, the geography, and which rule profile applies.

An election is declared once, from a JSON file (see `schemas/election_declaration.md`), before any
protocol for it can be accepted. Precincts may be listed inline or in a CSV file beside the JSON
(`precincts_csv`), which keeps declarations of a million polling stations small to parse.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pipelines.errors import InputError

_ELECTION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass(frozen=True)
class PartyList:
    list_id: str
    name: str
    ballot_order: int
    color: str | None = None
    candidates: int | None = None  # list length; None = long enough for any seat count


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


@dataclass(frozen=True)
class ElectionDeclaration:
    election_id: str
    name: str
    date: str
    rule_profile: str
    lists: tuple[PartyList, ...]
    regions: tuple[Region, ...]
    precincts: tuple[Precinct, ...] = field(repr=False)
    against_all_on_ballot: bool = False
    synthetic: bool = False
    source_note: str = ""

    @cached_property
    def list_ids(self) -> tuple[str, ...]:
        """In ballot order. Cached: ingestion asks for it once per protocol row."""
        return tuple(p.list_id for p in sorted(self.lists, key=lambda p: p.ballot_order))

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
                }
                for p in sorted(self.lists, key=lambda p: p.ballot_order)
            ],
            "regions": [
                {"region_id": r.region_id, "name": r.name, "utc_offset_hours": r.utc_offset_hours}
                for r in self.regions
            ],
        }
        if include_precincts:
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


def _precincts_from_csv(path: Path, file: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            for line, row in enumerate(reader, start=2):
                try:
                    voters = int(row["registered_voters"])
                except (KeyError, TypeError, ValueError):
                    raise InputError(
                        "registered_voters must be a whole number",
                        file=path.name,
                        row=line,
                        column="registered_voters",
                        value=row.get("registered_voters"),
                    ) from None
                rows.append(
                    {
                        "precinct_id": row.get("precinct_id", ""),
                        "region_id": row.get("region_id", ""),
                        "registered_voters": voters,
                    }
                )
    except OSError as exc:
        raise InputError(f"cannot read precincts file: {exc.strerror}", file=file) from None
    return rows


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
        precincts_raw: list[Any] = _precincts_from_csv(base_dir / name, file)
    else:
        raw = data.get("precincts")
        if not isinstance(raw, list) or not raw:
            raise InputError(
                "declaration: 'precincts' must be a non-empty array", file=file, column="precincts"
            )
        precincts_raw = raw
    precincts = tuple(
        Precinct(
            precinct_id=_require(item, "precinct_id", str, f"precincts[{i}]", file),
            region_id=_require(item, "region_id", str, f"precincts[{i}]", file),
            registered_voters=_require(item, "registered_voters", int, f"precincts[{i}]", file),
        )
        for i, item in enumerate(precincts_raw, start=1)
    )
    declaration = ElectionDeclaration(
        election_id=election_id,
        name=str(data.get("name", election_id)),
        date=str(data.get("date", "")),
        rule_profile=_require(data, "rule_profile", str, "declaration", file),
        lists=tuple(lists),
        regions=regions,
        precincts=precincts,
        against_all_on_ballot=bool(data.get("against_all_on_ballot", False)),
        synthetic=bool(data.get("synthetic", False)),
        source_note=str(data.get("source_note", "")),
    )
    _check_consistency(declaration, file)
    return declaration


def _check_consistency(decl: ElectionDeclaration, file: str) -> None:
    def dupes(values: list[str]) -> set[str]:
        seen: set[str] = set()
        return {v for v in values if v in seen or seen.add(v)}  # type: ignore[func-returns-value]

    for label, values in (
        ("list_id", [p.list_id for p in decl.lists]),
        ("ballot_order", [str(p.ballot_order) for p in decl.lists]),
        ("region_id", [r.region_id for r in decl.regions]),
        ("precinct_id", [p.precinct_id for p in decl.precincts]),
    ):
        repeated = dupes(values)
        if repeated:
            raise InputError(
                f"declaration: {label} must be unique", file=file, column=label, value=sorted(repeated)[0]
            )
    region_ids = {r.region_id for r in decl.regions}
    for p in decl.precincts:
        if p.region_id not in region_ids:
            raise InputError(
                f"precinct {p.precinct_id} names an undeclared region",
                file=file,
                column="region_id",
                value=p.region_id,
            )
        if p.registered_voters < 0:
            raise InputError(
                "registered_voters must be >= 0",
                file=file,
                column="registered_voters",
                value=p.registered_voters,
            )


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
