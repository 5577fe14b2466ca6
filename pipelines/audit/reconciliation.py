"""Comparing a commission's published summary with the warehouse's figures, figure by figure.

Pure: the warehouse's figures come in as a `WarehouseFigures` (read by
`pipelines.audit.reconciliation_figures`), the summary as read by `pipelines.gate.reconcile_summary`.
A summary names regions and lists as a commission prints them, by id or by name; one the election
does not have is bad input (the summary cannot be compared), not a difference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pipelines.core.errors import InputError
from pipelines.gate.reconcile_summary import SummaryFigure

# (region id or None for the nation, measure, list id or None): one figure of the warehouse.
FigureKey = tuple[str | None, str, str | None]


@dataclass(frozen=True)
class WarehouseFigures:
    """What the warehouse says, for one election at one log position.

    `values` holds every figure it has; seats are missing when no seat table was published.
    `seats_source` says where the seat figures come from (which publication, or computed as of)."""

    election_id: str
    position: int
    regions: Mapping[str, str]  # region id -> name, as declared
    lists: Mapping[str, str]  # list id -> name, as declared
    values: Mapping[FigureKey, int]
    seats_source: str


@dataclass(frozen=True)
class Comparison:
    """One summary figure beside the warehouse's; `warehouse` is None when it has no such figure."""

    figure: SummaryFigure
    area: str
    list_label: str | None
    warehouse: int | None

    @property
    def agrees(self) -> bool:
        return self.warehouse == self.figure.value

    def record(self) -> dict[str, object]:
        """The row a person reads; the difference is summary minus warehouse (> 0: the summary is higher)."""
        return {
            "row": self.figure.row,
            "area": self.area,
            "measure": self.figure.measure,
            "list": self.list_label,
            "summary": self.figure.value,
            "warehouse": self.warehouse,
            "difference": None if self.warehouse is None else self.figure.value - self.warehouse,
        }


RECORD_COLUMNS = ("row", "area", "measure", "list", "summary", "warehouse", "difference")


def compare(summary: Sequence[SummaryFigure], figures: WarehouseFigures, *, file: str) -> list[Comparison]:
    """Each summary figure beside the warehouse's, in the summary's order."""
    comparisons = []
    for figure in summary:
        region_id = None
        area = "national"
        if figure.region is not None:
            region_id = _resolve(
                figure.region, figures.regions, "region", figures.election_id, file, figure.row
            )
            area = _label(region_id, figures.regions[region_id])
        list_id = None
        list_label = None
        if figure.list is not None:
            list_id = _resolve(figure.list, figures.lists, "list", figures.election_id, file, figure.row)
            list_label = _label(list_id, figures.lists[list_id])
        warehouse = figures.values.get((region_id, figure.measure, list_id))
        comparisons.append(Comparison(figure, area, list_label, warehouse))
    return comparisons


def _resolve(text: str, known: Mapping[str, str], column: str, election_id: str, file: str, row: int) -> str:
    """The id `text` means: an id as declared, else a declared name; letter case only if that is unique."""
    if text in known:
        return text
    for exact in (True, False):
        matches = [
            key
            for key, name in known.items()
            if (name == text if exact else text.casefold() in (name.casefold(), key.casefold()))
        ]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InputError(
                f"names {len(matches)} {column}s of {election_id} ({', '.join(matches)}): use the id",
                file=file,
                row=row,
                column=column,
                rule=f"declared_{column}",
                value=text,
            )
    raise InputError(
        f"no {column} of {election_id} has this id or name (ids: {', '.join(known)})",
        file=file,
        row=row,
        column=column,
        rule=f"declared_{column}",
        value=text,
    )


def _label(key: str, name: str) -> str:
    return key if key == name else f"{name} ({key})"
