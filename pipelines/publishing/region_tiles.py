"""Tile-grid maps of regions: where each region's tile sits, from the layout tables in
`schemas/region_tiles/` (one CSV per country: `region_id,row,column,label`), for the results page.

A map needs no geography, only a grid every reader can scan; and no map service. A layout may give
two regions the same cell when no election has both (a city renamed, a region split later): the page
uses the first layout, by file name, that places every region of the publication in a cell of its
own, and shows no map when none does (the regions table says the same).

The layouts are part of the page of format 4: a page rendered again must come out the same, so a
shipped layout does not change; a new country's layout is a new file (docs/warehouse.md).
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipelines.core.errors import InputError
from pipelines.core.paths import SCHEMAS_DIR

REGION_TILES_DIR = SCHEMAS_DIR / "region_tiles"
COLUMNS = ("region_id", "row", "column", "label")
MAX_CELLS = 64  # rows and columns each: a tile map, not a raster


@dataclass(frozen=True)
class Tile:
    region_id: str
    row: int
    column: int
    label: str  # short text shown on the tile; the region's full name goes beside it


def _cell(text: str, file: str, line: int, column: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < MAX_CELLS:
        raise InputError(
            f"a tile's {column} must be a whole number from 0 to {MAX_CELLS - 1}",
            file=file,
            row=line,
            column=column,
            value=text,
        )
    return value


def read_layout(path: Path) -> tuple[Tile, ...]:
    """One layout table; bad content is an InputError naming the file, row and column."""
    file = str(path)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if tuple(reader.fieldnames or ()) != COLUMNS:
                raise InputError(f"a tile layout has the columns {','.join(COLUMNS)}", file=file, row=1)
            rows = list(enumerate(reader, start=2))
    except OSError as exc:
        raise InputError(f"cannot read the tile layout: {exc.strerror}", file=file) from None
    tiles: dict[str, Tile] = {}
    for line, row in rows:
        region_id, label = (row.get("region_id") or "").strip(), (row.get("label") or "").strip()
        if not region_id or not label:
            raise InputError("a tile needs a region_id and a label", file=file, row=line, column="region_id")
        if region_id in tiles:
            raise InputError(
                "a region has one tile", file=file, row=line, column="region_id", value=region_id
            )
        row_number = _cell(row.get("row") or "", file, line, "row")
        tiles[region_id] = Tile(
            region_id, row_number, _cell(row.get("column") or "", file, line, "column"), label
        )
    return tuple(tiles.values())


@functools.cache
def shipped_layouts(directory: Path = REGION_TILES_DIR) -> tuple[tuple[Tile, ...], ...]:
    """Every layout table of the folder, by file name."""
    return tuple(read_layout(path) for path in sorted(directory.glob("*.csv")))


def tiles_for(
    region_ids: Sequence[str], layouts: Sequence[Sequence[Tile]] | None = None
) -> list[Tile] | None:
    """The tiles of these regions from the first layout that gives each its own cell; None if none does."""
    if not region_ids:
        return None
    for layout in shipped_layouts() if layouts is None else layouts:
        by_id = {tile.region_id: tile for tile in layout}
        if not all(region_id in by_id for region_id in region_ids):
            continue
        tiles = [by_id[region_id] for region_id in region_ids]
        if len({(tile.row, tile.column) for tile in tiles}) == len(tiles):
            return tiles
    return None
