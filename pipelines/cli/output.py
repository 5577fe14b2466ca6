"""Rendering rows for people (aligned table) and programs (CSV, JSON); CSV cells open in a spreadsheet as
written (`pipelines.publishing.spreadsheet_safe`: no formula, date or altered number)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from pipelines.publishing.spreadsheet_safe import spreadsheet_safe

FORMATS = ("table", "csv", "json")


def render(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(
            [{c: r.get(c) for c in columns} for r in rows], ensure_ascii=False, indent=2, default=str
        )
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for r in rows:
            writer.writerow([spreadsheet_safe(r.get(c)) for c in columns])
        return buffer.getvalue().rstrip("\n")
    cells = [[_text(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines.append(
            "  ".join(
                v.rjust(w) if _numeric(v) else v.ljust(w) for v, w in zip(row, widths, strict=True)
            ).rstrip()
        )
    return "\n".join(lines)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _numeric(text: str) -> bool:
    return text.replace(".", "", 1).replace("/", "", 1).lstrip("-").isdigit()
