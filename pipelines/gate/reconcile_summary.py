"""Reading a commission's published summary for `elections reconcile` (schemas/reconcile_summary.md).

One figure per row, `scope,region,measure,list,value`: a commission's summary protocol is a list of
line items (registered voters, ballots cast, ..., each list's votes), nationally and per region, and a
summary may publish any subset of them. The file is only checked for its own shape here; whether its
regions and lists exist is a question for the warehouse (pipelines/audit/reconciliation.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipelines.core.errors import InputError
from pipelines.rules.seat_allocation.csv_input import csv_rows

COLUMNS = ("scope", "region", "measure", "list", "value")
OPTIONAL_COLUMNS = ("note",)
SCOPES = ("national", "region")
# In the order a commission's protocol lists them; `votes` and `seats` are per list.
MEASURES = (
    "precincts",
    "registered_voters",
    "ballots_cast",
    "invalid_ballots",
    "against_all",
    "votes",
    "seats",
)
LIST_MEASURES = frozenset({"votes", "seats"})
# The seat allocation is national: no region has a seat figure of its own.
NATIONAL_MEASURES = frozenset({"seats"})
# Commissions print 5 148 074 with a space, a no-break or a narrow no-break space between groups.
GROUP_SEPARATORS = (" ", "\u00a0", "\u202f")


@dataclass(frozen=True)
class SummaryFigure:
    """One published figure: `region` and `list` as written (an id or a name), None where not used."""

    row: int
    scope: str
    region: str | None
    measure: str
    list: str | None
    value: int


def read_summary(path: Path) -> list[SummaryFigure]:
    """Every figure of the summary, in file order; the first row that breaks a rule raises InputError."""
    file = str(path)
    figures: list[SummaryFigure] = []
    first_row: dict[tuple[str, str, str, str], int] = {}
    for line, cells in csv_rows(path, COLUMNS, OPTIONAL_COLUMNS):
        figure = _figure(cells, file=file, row=line)
        key = (figure.scope, figure.region or "", figure.measure, figure.list or "")
        if key in first_row:
            raise InputError(
                f"the same figure is given twice (first on row {first_row[key]})",
                file=file,
                row=line,
                column="measure",
                rule="unique",
                value=figure.measure,
            )
        first_row[key] = line
        figures.append(figure)
    if not figures:
        raise InputError("no figures after the header", file=file, row=2, rule="required")
    return figures


def _figure(cells: dict[str, str], *, file: str, row: int) -> SummaryFigure:
    def refuse(column: str, message: str, rule: str) -> InputError:
        return InputError(message, file=file, row=row, column=column, rule=rule, value=cells[column])

    scope, region, measure, list_name = cells["scope"], cells["region"], cells["measure"], cells["list"]
    if scope not in SCOPES:
        raise refuse("scope", f"must be one of {', '.join(SCOPES)}", "scope")
    if scope == "region" and not region:
        raise refuse("region", "a region row names its region (id or name)", "required")
    if scope == "national" and region:
        raise refuse("region", "a national row leaves region empty", "empty")
    if measure not in MEASURES:
        raise refuse("measure", f"must be one of {', '.join(MEASURES)}", "measure")
    if measure in NATIONAL_MEASURES and scope != "national":
        raise refuse("scope", f"{measure} are national only", "national_only")
    if measure in LIST_MEASURES and not list_name:
        raise refuse("list", f"{measure} rows name their list (id or name)", "required")
    if measure not in LIST_MEASURES and list_name:
        raise refuse("list", f"{measure} is not a figure of a list: leave list empty", "empty")
    digits = cells["value"]
    for separator in GROUP_SEPARATORS:
        digits = digits.replace(separator, "")
    if not (digits.isascii() and digits.isdigit()):
        raise refuse(
            "value", "must be a whole number >= 0 (digits, groups may be split by spaces)", "integer"
        )
    return SummaryFigure(row, scope, region or None, measure, list_name or None, int(digits))
