"""An election declared from a commission's own files: lists from the header, regions and precincts
(with their registered voters) from the rows, read through a native layout.

A declaration must be whole, so a record it cannot read (its precinct id, region or registered voters;
a record that does not line up with the header) refuses it, naming file, row, column and value; the
vote cells are the results' business, not the declaration's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.core.errors import InputError
from pipelines.domain.election import ElectionDeclaration, PartyList, Precinct, PrecinctTable, Region
from pipelines.domain.list_kinds import PARTY
from pipelines.gate.native_layout import NativeLayout
from pipelines.gate.native_table import (
    NativeFile,
    NativeList,
    count_of,
    id_parts,
    read_native,
    stations,
)
from pipelines.gate.protocol_format import FormatRejection, RowFormatProblem


@dataclass(frozen=True)
class NativeSource:
    name: str  # the name a problem gives the file
    data: bytes


def layout_refusal(layout: NativeLayout, name: str, rejection: FormatRejection) -> InputError:
    """The one-line refusal of a file its layout does not fit."""
    return InputError(
        f"{layout.describe()} does not fit this file: {rejection.message}", file=name, rule=rejection.rule
    )


def fitted(sources: Sequence[NativeSource], layout: NativeLayout) -> list[NativeFile]:
    """Every file read through the layout; the first it does not fit refuses them all."""
    natives = []
    for source in sources:
        native = read_native(source.data, layout)
        if isinstance(native, FormatRejection):
            raise layout_refusal(layout, source.name, native)
        natives.append(native)
    return natives


def _problem(name: str, problem: RowFormatProblem) -> InputError:
    return InputError(
        f"declaration from native files: {problem.message}",
        file=name,
        row=problem.row,
        column=problem.column,
        rule=problem.rule,
        value=problem.value,
    )


def _same_lists(first: tuple[NativeList, ...], other: tuple[NativeList, ...], name: str) -> None:
    if [i.list_id for i in first] != [i.list_id for i in other]:
        raise InputError(
            "the files name other lists than the first file: "
            f"{[i.list_id for i in other]} where it has {[i.list_id for i in first]}",
            file=name,
            rule="same_lists",
        )


def list_kinds(lists: Sequence[NativeList], layout: NativeLayout) -> list[str]:
    """Each list's kind as the layout's lists.kinds gives it (by the list's name, else its id), a
    party when it names none; a name or id it gives that is no list's refuses the declaration."""
    kinds = layout.lists.kinds or {}
    known = {item.name for item in lists} | {item.list_id for item in lists}
    unknown = [key for key in kinds if key not in known]
    if unknown:
        raise InputError(
            f"{layout.describe()}: lists.kinds names {unknown[0]!r}, which is neither the name nor the id "
            f"of a list of these files ({', '.join(item.name for item in lists)})",
            column="lists.kinds",
            rule="unknown_list",
            value=unknown[0],
        )
    found = []
    for item in lists:
        given = {kinds[key] for key in (item.name, item.list_id) if key in kinds}
        if len(given) > 1:
            raise InputError(
                f"{layout.describe()}: lists.kinds gives list {item.list_id!r} two kinds (by name, by id)",
                column="lists.kinds",
                rule="list_kind",
                value=item.name,
            )
        found.append(given.pop() if given else PARTY)
    return found


def declaration_from_native(
    sources: Sequence[NativeSource],
    layout: NativeLayout,
    *,
    election_id: str,
    name: str,
    rule_profile: str,
    date: str = "",
) -> ElectionDeclaration:
    """The election these files report: its lists in the first file's column order, its regions in
    the order they first appear, one precinct per record."""
    if not sources:
        raise InputError("declare needs at least one native file")
    natives = fitted(sources, layout)
    lists = natives[0].lists
    regions: dict[str, str] = {}
    precincts: list[Precinct] = []
    where: dict[str, tuple[str, int]] = {}
    for source, native in zip(sources, natives, strict=True):
        _same_lists(lists, native.lists, source.name)
        if native.problems:
            raise _problem(source.name, native.problems[0])
        read = stations(native)
        for record, precinct_id, region, region_name, registered, unread in zip(
            native.records,
            read.precinct_ids,
            read.regions,
            read.region_names,
            read.registered_voters,
            read.unread,
            strict=True,
        ):
            if unread:  # the record read alone, for the problem it names
                parts = id_parts(native, record)
                if isinstance(parts, RowFormatProblem):
                    raise _problem(source.name, parts)
                counted = count_of(native, record, "registered_voters")
                if isinstance(counted, RowFormatProblem):
                    raise _problem(source.name, counted)
                assert counted is not None  # a required figure: the layout fits, so its column is there
                (precinct_id, region, region_name), registered = parts, counted
            if precinct_id in where:
                first_file, first_row = where[precinct_id]
                raise InputError(
                    f"precinct {precinct_id} appears twice (first in {first_file} row {first_row})",
                    file=source.name,
                    row=record.line,
                    column="precinct_id",
                    rule="unique",
                    value=precinct_id,
                )
            where[precinct_id] = (source.name, record.line)
            regions.setdefault(region, region_name)
            precincts.append(Precinct(precinct_id, region, registered))
    note = f"declared from {len(sources)} native file(s) read with {layout.describe()}: " + ", ".join(
        s.name for s in sources
    )
    return ElectionDeclaration(
        election_id=election_id,
        name=name,
        date=date,
        rule_profile=rule_profile,
        lists=tuple(
            PartyList(item.list_id, item.name, order, kind=kind)
            for order, (item, kind) in enumerate(zip(lists, list_kinds(lists, layout), strict=True), start=1)
        ),
        regions=tuple(Region(region_id, region_name) for region_id, region_name in regions.items()),
        precincts=PrecinctTable.from_precincts(precincts),
        against_all_on_ballot="against_all" in layout.counts,
        source_note=note[:1000],
    )
