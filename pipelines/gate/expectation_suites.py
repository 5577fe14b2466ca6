"""Expectation suites kept as data in `schemas/expectations/`, expanded for one election's columns.

A suite file is GX's own expectation layout (`type`, `kwargs`, `meta`) plus two additions:

* an expectation with `"for_each": "<group>"` is repeated for every column of that group, `{column}` in
  its strings being replaced by the column name. Groups are filled by the caller (they depend on the
  declared lists and on which optional columns a file has).
* `cell_expectations` run on the suite's cell frame (one row per file row and count column, see the
  file's `cell_frame`), so their number does not grow with the number of lists. Their `meta.column` and
  `meta.message` keep `{column}`: it is filled with the failing cell's column when a rejection is made.

`meta.rule` names the rule a failing row is quarantined under and `meta.column` the column the operator
is shown.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from pipelines.core.paths import EXPECTATIONS_DIR

COLUMN_PLACEHOLDER = "{column}"


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

    def column_for(self, cell_column: str) -> str:
        """The reported column; for a cell expectation, that of the failing cell."""
        return self.column.replace(COLUMN_PLACEHOLDER, cell_column)

    def message_for(self, cell_column: str) -> str:
        return self.message.replace(COLUMN_PLACEHOLDER, cell_column)


@cache
def load_suite_template(name: str) -> Mapping[str, Any]:
    """The suite file `schemas/expectations/<name>.json`."""
    with (EXPECTATIONS_DIR / f"{name}.json").open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def _substitute(value: Any, column: str) -> Any:
    if isinstance(value, str):
        return value.replace(COLUMN_PLACEHOLDER, column)
    if isinstance(value, list):
        return [_substitute(v, column) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, column) for k, v in value.items()}
    return value


def _spec(item: Mapping[str, Any]) -> ExpectationSpec:
    meta = item["meta"]
    return ExpectationSpec(
        type=item["type"],
        kwargs=item["kwargs"],
        rule=meta["rule"],
        column=meta["column"],
        message=meta["message"],
    )


def expand_suite(name: str, groups: Mapping[str, Sequence[str]]) -> list[ExpectationSpec]:
    """The suite's row expectations, each `for_each` repeated over `groups[...]` (absent group = none)."""
    template = load_suite_template(name)
    specs: list[ExpectationSpec] = []
    for item in template["expectations"]:
        group = item.get("for_each")
        if group is None:
            specs.append(_spec(item))
        else:
            specs.extend(_spec(_substitute(item, column)) for column in groups.get(group, ()))
    return specs


def cell_suite(name: str) -> list[ExpectationSpec]:
    """The suite's cell expectations (none if it has no cell frame), `{column}` left in column and message."""
    return [_spec(item) for item in load_suite_template(name).get("cell_expectations", ())]
