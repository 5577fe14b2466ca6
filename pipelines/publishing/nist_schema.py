"""Checking a document against NIST's JSON Schema for SP 1500-100 v2 (Election Results CDF).

The schema (vendored in `schemas/nist/`, see SOURCES.md there) is draft 4. A document is valid when it
passes the draft-4 validator with the `format` keywords the schema uses checked (date, date-time, time,
uri: draft 4's own format checker knows none of them), every `@id` is unique, and every reference the
schema marks with its non-standard `refTypes` keyword names an object of one of those classes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Final

from jsonschema import Draft4Validator, FormatChecker

from pipelines.core.paths import SCHEMAS_DIR

SCHEMA_PATH: Final = SCHEMAS_DIR / "nist" / "NIST_V2_election_results_reporting.json"
_PREFIX: Final = "ElectionResults."

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# RFC 3339: a full date, a time with seconds, optional fraction, and a zone that is never left out.
_TIME = r"\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
_DATE_TIME = re.compile(rf"^\d{{4}}-\d{{2}}-\d{{2}}[Tt]{_TIME}$")
_TIME_ONLY = re.compile(rf"^{_TIME}$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True  # formats constrain strings only; `type` says the rest
    if not _DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.match(value):
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _is_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return bool(_TIME_ONLY.match(value)) and _is_date_time(f"2000-01-01T{value}")


def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or bool(_URI.match(value))


def format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checks("date")(_is_date)
    checker.checks("date-time")(_is_date_time)
    checker.checks("time")(_is_time)
    checker.checks("uri")(_is_uri)
    return checker


@cache
def schema(path: Path = SCHEMA_PATH) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    Draft4Validator.check_schema(loaded)
    return loaded


@cache
def _validator(path: Path = SCHEMA_PATH) -> Draft4Validator:
    return Draft4Validator(schema(path), format_checker=format_checker())


def _short(message: str, limit: int = 300) -> str:
    """A schema message quotes the offending value whole: keep it readable for a large one."""
    return message if len(message) <= limit else f"{message[:limit]}... ({len(message)} characters)"


def _where(path: Iterable[object]) -> str:
    return "/" + "/".join(str(p) for p in path)


def _objects(value: object, where: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every JSON object in the document with its JSON-pointer path, outermost first."""
    if isinstance(value, Mapping):
        yield where or "/", value
        for key, item in value.items():
            yield from _objects(item, f"{where}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _objects(item, f"{where}/{index}")


def _reference_problems(document: object, definitions: Mapping[str, Any]) -> list[str]:
    """Duplicate `@id`s and references (`refTypes`) to a missing id or to an object of another class."""
    problems: list[str] = []
    classes: dict[str, str] = {}
    for where, obj in _objects(document):
        if "@id" in obj and isinstance(obj["@id"], str):
            if obj["@id"] in classes:
                problems.append(f"{where}/@id: {obj['@id']!r} is the @id of another object too")
            classes[obj["@id"]] = str(obj.get("@type", ""))
    for where, obj in _objects(document):
        properties = definitions.get(str(obj.get("@type", "")), {}).get("properties", {})
        for name, spec in properties.items():
            if name not in obj:
                continue
            allowed = spec.get("refTypes") or spec.get("items", {}).get("refTypes")
            if not allowed:
                continue
            values = obj[name] if isinstance(obj[name], list) else [obj[name]]
            for index, ref in enumerate(values):
                at = f"{where}/{name}" + (f"/{index}" if isinstance(obj[name], list) else "")
                if ref not in classes:
                    problems.append(f"{at}: {ref!r} is the @id of no object in the document")
                elif classes[ref] not in allowed:
                    problems.append(
                        f"{at}: {ref!r} names a {classes[ref].removeprefix(_PREFIX)}, "
                        f"expected {' or '.join(a.removeprefix(_PREFIX) for a in allowed)}"
                    )
    return problems


def validation_errors(document: object, *, schema_path: Path = SCHEMA_PATH) -> list[str]:
    """Every way the document breaks the schema, as 'json-pointer: message' lines (empty when valid)."""
    validator = _validator(schema_path)
    problems = [
        f"{_where(error.absolute_path)}: {_short(error.message)}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]
    return problems + _reference_problems(document, schema(schema_path)["definitions"])
