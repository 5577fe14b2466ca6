"""A publication's tables as one Excel workbook (.xlsx, written by openpyxl), byte for byte the same
whenever it is rendered from the same log.

One sheet per table, header row frozen, cells typed: whole numbers and decimals are numbers, flags
booleans, and text (ids such as `03`, exact fractions such as `5/9`, names starting with `=`) is a
string cell, which no spreadsheet evaluates or converts; a control character XML cannot hold is
written as the format's escape `_xHHHH_`, which Excel reads back as the character. openpyxl stamps
the time of saving into `docProps/core.xml` and every zip entry; both are set to the publication
event's time instead.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.xml.functions import tostring

from pipelines.publishing.export_tables import Cell, Table

CORE_PROPERTIES = "docProps/core.xml"
CREATOR = "elections-pipeline"


def workbook_bytes(tables: Sequence[Table], stamped_at: datetime) -> bytes:
    """The workbook of `tables` (one sheet each, in order); `stamped_at` (UTC) is the only time in it."""
    book = Workbook(write_only=True)
    for table in tables:
        sheet = book.create_sheet(table.name)
        sheet.freeze_panes = "A2"
        sheet.append([_cell(sheet, c) for c in table.columns])
        for row in table.rows:
            sheet.append([_cell(sheet, v) for v in row])
    stamp = stamped_at.replace(tzinfo=None, microsecond=0)
    book.properties.creator = CREATOR
    book.properties.created = stamp
    saved = io.BytesIO()
    book.save(saved)
    book.properties.modified = stamp  # save() set it to the clock's time
    return _restamped(saved.getvalue(), stamp, tostring(book.properties.to_tree()))


def _cell(sheet: Any, value: Cell) -> Any:
    if isinstance(value, Fraction):
        value = value.numerator if value.denominator == 1 else str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
        # XML cannot hold these control characters; _xHHHH_ is how the format spells them.
        value = ILLEGAL_CHARACTERS_RE.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"  # openpyxl takes text starting with '=' for a formula
        return cell
    return value  # openpyxl types the rest: numbers, booleans, text, None (an empty cell)


def _restamped(data: bytes, stamp: datetime, core_properties: bytes) -> bytes:
    """The same zip with every entry dated `stamp` and the core properties replaced."""
    date_time = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            content = core_properties if entry.filename == CORE_PROPERTIES else source.read(entry)
            info = zipfile.ZipInfo(entry.filename, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, content)
    return out.getvalue()
