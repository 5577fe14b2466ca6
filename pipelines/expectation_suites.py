"""Expectation suites kept as data in `schemas/expectations/`, expanded for one election's columns.

A suite file is GX's own expectation layout (`type`, `kwargs`, `meta`) plus one addition: an expectation
with `"for_each": "<group>"` is repeated for every column of that group, `{column}` in its strings being
replaced by the column name. Groups are filled by the caller (they depend on the declared lists and on
which optional columns a file has). `meta.rule` names the rule a failing row is quarantined under and
`meta.column` the column the operator is shown.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SUITES_DIR = Path(__file__).resolve().parent.parent / "schemas" / "expectations"


@dataclass(frozen=True)
class ExpectationSpec:
    """One expanded expectation: GX type and kwargs, plus the rule it enforces."""

    type: str
    kwargs: Mapping[str, Any]
    rule: str
    column: str
    message: str

    def as_gx_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "kwargs": dict(self.kwargs),
            "meta": {"rule": self.rule, "column": self.column, "message": self.message},
        }


@cache
def load_suite_template(name: str) -> Mapping[str, Any]:
    """The suite file `schemas/expectations/<name>.json`."""
    with (SUITES_DIR / f"{name}.json").open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def _substitute(value: Any, column: str) -> Any:
    if isinstance(value, str):
        return value.replace("{column}", column)
    if isinstance(value, list):
        return [_substitute(v, column) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, column) for k, v in value.items()}
    return value


def expand_suite(name: str, groups: Mapping[str, Sequence[str]]) -> list[ExpectationSpec]:
    """The suite's expectations with every `for_each` repeated over `groups[...]` (absent group = none)."""
    template = load_suite_template(name)
    specs: list[ExpectationSpec] = []
    for item in template["expectations"]:
        group = item.get("for_each")
        columns: Sequence[str | None] = [None] if group is None else groups.get(group, ())
        for column in columns:
            expanded = item if column is None else _substitute(item, column)
            meta = expanded["meta"]
            specs.append(
                ExpectationSpec(
                    type=expanded["type"],
                    kwargs=expanded["kwargs"],
                    rule=meta["rule"],
                    column=meta["column"],
                    message=meta["message"],
                )
            )
    return specs
