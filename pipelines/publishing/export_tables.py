"""The tables a publication exports for people and their tools (seats, national, regions, precincts):
columns and typed rows, shared by its CSV files, the precinct Parquet file and the workbook, so that
each says the same.

Cells are typed: int, bool, Decimal (a rounded decimal beside an exact value), Fraction (exact),
str, None (no value). The seat table's fractions come twice: `<name>_exact` (the Fraction) and
`<name>_decimal` (rounded half-up to `DECIMAL_PLACES`).

The precinct results follow the OpenElections precinct layout (`county, precinct, office, district,
party, candidate, votes`, docs/openelections.md): one row per counted precinct and list, after the
precinct's pseudo-rows for registered voters, ballots cast and invalid ballots, with "Against all"
as one more choice where it is on the ballot (as in the NIST export). The county is the region's
name, the office the election's name, the district empty (one nationwide list contest), the party
the list id and the candidate the list's name. A pending or annulled precinct has no results and no
rows there; the workbook's precinct sheet lists every declared precinct with its state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from pipelines.publishing.published_results import TOTAL_FIELDS, AreaTotals, PublishedResults
from pipelines.rules.number_text import rounded
from pipelines.rules.seat_allocation.model import RECORD_FIELDS

Cell = str | int | bool | Decimal | Fraction | None
DECIMAL_PLACES = 6
FRACTION_FIELDS = ("share", "quota", "quotient", "remainder")
OPENELECTIONS_COLUMNS = ("county", "precinct", "office", "district", "party", "candidate", "votes")
# The OpenElections pseudo-rows of each precinct, with the figure they carry.
PSEUDO_ROWS = (
    ("Registered Voters", "registered_voters"),
    ("Ballots Cast", "ballots_cast"),
    ("Invalid Ballots", "invalid_ballots"),
)
AGAINST_ALL = "Against all"
PRECINCT_FIGURES = ("registered_voters", "ballots_cast", "invalid_ballots", "against_all")


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    rows: Sequence[tuple[Cell, ...]]

    def records(self) -> list[dict[str, Cell]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def seat_columns() -> tuple[str, ...]:
    columns: list[str] = []
    for field in RECORD_FIELDS:
        if field in FRACTION_FIELDS:
            columns += [f"{field}_exact", f"{field}_decimal"]
        else:
            columns.append(field)
    return tuple(columns)


def seats_table(results: PublishedResults) -> Table:
    """The allocation records, each fraction as an exact value and a rounded decimal beside it."""
    rows = []
    for record in results.allocation:
        row: list[Cell] = []
        for field in RECORD_FIELDS:
            value = record.get(field)
            if field in FRACTION_FIELDS:
                exact = None if value is None else Fraction(str(value))
                row += [exact, None if exact is None else Decimal(rounded(exact, DECIMAL_PLACES))]
            elif field == "share_pct":
                row.append(None if value is None else Decimal(str(value)))
            else:
                row.append(value)
        rows.append(tuple(row))
    return Table("seats", seat_columns(), rows)


def area_columns(results: PublishedResults) -> tuple[str, ...]:
    return ("region_id", "name", *TOTAL_FIELDS, *(info.list_id for info in results.lists))


def area_row(area: AreaTotals, results: PublishedResults) -> tuple[Cell, ...]:
    return (
        area.region_id,
        area.name,
        *(area.figures[f] for f in TOTAL_FIELDS),
        *(area.votes[info.list_id] for info in results.lists),
    )


def national_table(results: PublishedResults) -> Table:
    return Table("national", area_columns(results), [area_row(results.national, results)])


def regions_table(results: PublishedResults) -> Table:
    return Table("regions", area_columns(results), [area_row(r, results) for r in results.regions])


def precinct_results_table(results: PublishedResults) -> Table | None:
    """The counted precincts' results in the OpenElections layout; None for a publication made
    without precinct figures."""
    if results.precincts is None:
        return None
    county = _region_names(results)
    office = results.election_name
    rows: list[tuple[Cell, ...]] = []
    for p in results.precincts:
        if p.state != "reported":
            continue
        where = (county.get(p.region_id, p.region_id), p.precinct_id)
        figures: Mapping[str, int] = {
            "registered_voters": p.registered_voters,
            "ballots_cast": p.ballots_cast,
            "invalid_ballots": p.invalid_ballots,
        }
        rows += [(*where, label, "", "", "", figures[key]) for label, key in PSEUDO_ROWS]
        rows += [(*where, office, "", i.list_id, i.name, p.votes[i.list_id]) for i in results.lists]
        if results.shows_against_all:
            rows.append((*where, office, "", "", AGAINST_ALL, p.against_all))
    return Table("precinct results", OPENELECTIONS_COLUMNS, rows)


def precincts_table(results: PublishedResults) -> Table | None:
    """Every declared precinct, one row each: state, figures and votes per list (empty unless its
    protocol is in force); None for a publication made without precinct figures."""
    if results.precincts is None:
        return None
    county = _region_names(results)
    columns: tuple[str, ...] = ("region_id", "region", "precinct_id", "state", *PRECINCT_FIGURES)
    columns += tuple(info.list_id for info in results.lists)
    rows: list[tuple[Cell, ...]] = []
    for p in results.precincts:
        counted = p.state == "reported"
        rows.append(
            (
                p.region_id,
                county.get(p.region_id, p.region_id),
                p.precinct_id,
                p.state,
                p.registered_voters,
                *((p.ballots_cast, p.invalid_ballots, p.against_all) if counted else (None, None, None)),
                *((p.votes[i.list_id] if counted else None) for i in results.lists),
            )
        )
    return Table("precincts", columns, rows)


def about_table(results: PublishedResults) -> Table:
    """What the publication is: the facts every file of its folder states."""
    facts: tuple[tuple[str, Cell], ...] = (
        ("publication_id", results.publication_id),
        ("election_id", results.election_id),
        ("election", results.election_name),
        ("status", results.status),
        ("position", results.position),
        ("based_on_position", results.based_on_position),
        ("based_on_hash", results.based_on_hash),
        ("rule_profile", results.rule_profile),
        ("table_sha256", results.table_sha256),
        ("published_at", results.published_at_text),
    )
    return Table("publication", ("field", "value"), facts)


def _region_names(results: PublishedResults) -> dict[str, str]:
    return {str(r.region_id): r.name for r in results.regions}
