"""Publication folders of format 1, frozen: the files the version before recorded formats wrote
(main at 6a6cae9), rendered the same way to the byte so that `elections verify` still checks the
folders it wrote. Publications whose event records no `publication_format` are of this format.

Nothing here may change: its CSV writer (LF line ends, only formula prefixes defused), its seat table
columns (the allocation's record fields), its totals records, and no workbook or precinct files. It
shares the NIST CDF with the current format, whose bytes have not changed since, and the results page
with format 2 (results_page_format_2.py, frozen too); tests/integration/test_publication_formats.py
renders the folders that version wrote (kept in tests/fixtures/logs/night-2026-12/publications) and
fails if either ever does.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.publishing.nist_cdf import report_bytes
from pipelines.publishing.publication_layout import (
    ALLOCATION_JSON,
    CDF_JSON,
    NATIONAL_CSV,
    NATIONAL_JSON,
    REGIONAL_CSV,
    REGIONAL_JSON,
    RESULTS_PAGE,
    SEATS_CSV,
    SEATS_JSON,
    SEATS_PARQUET,
)
from pipelines.publishing.published_results import TOTAL_FIELDS, AreaTotals, ListInfo, PublishedResults
from pipelines.publishing.results_page_format_2 import render_results_page
from pipelines.rules.seat_allocation.model import RECORD_FIELDS

# The seat table's columns as format 1 wrote them (RECORD_FIELDS then).
SEAT_COLUMNS = (
    "list_id",
    "name",
    "ballot_order",
    "votes",
    "share",
    "share_pct",
    "passed_threshold",
    "admitted_by_guarantee",
    "quota",
    "quotient",
    "integer_seats",
    "remainder",
    "remainder_seat",
    "redistributed_seats",
    "seats",
    "vacant_seats",
    "filled_seats",
)
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PARQUET_TYPES = {
    "ballot_order": pa.int32(),
    "votes": pa.int64(),
    "passed_threshold": pa.bool_(),
    "admitted_by_guarantee": pa.bool_(),
    "integer_seats": pa.int32(),
    "remainder_seat": pa.bool_(),
    "redistributed_seats": pa.int32(),
    "seats": pa.int32(),
    "vacant_seats": pa.int32(),
    "filled_seats": pa.int32(),
}


def render_format_1(results: PublishedResults) -> dict[str, bytes]:
    """Every file of a format-1 folder but the manifest, as that version rendered them."""
    area_columns = ["region_id", "name", *TOTAL_FIELDS, *(info.list_id for info in results.lists)]
    national = _area_record(results.national, results.lists)
    regional = [_area_record(r, results.lists) for r in results.regions]
    about = {
        "publication_id": results.publication_id,
        "election_id": results.election_id,
        "status": results.status,
        "based_on_position": results.based_on_position,
        "based_on_hash": results.based_on_hash,
        "rule_profile": results.rule_profile,
        "published_at": results.published_at_text,
    }
    return {
        SEATS_CSV: _csv_bytes(SEAT_COLUMNS, results.allocation),
        SEATS_JSON: _json_bytes(
            {**about, "table_sha256": results.table_sha256, "seats": list(results.allocation)}
        ),
        SEATS_PARQUET: _seats_parquet(results.allocation),
        NATIONAL_CSV: _csv_bytes(area_columns, [national]),
        NATIONAL_JSON: _json_bytes({**about, "national": national}),
        REGIONAL_CSV: _csv_bytes(area_columns, regional),
        REGIONAL_JSON: _json_bytes({**about, "regions": regional}),
        CDF_JSON: report_bytes(results),
        RESULTS_PAGE: render_results_page(results).encode("utf-8"),
        ALLOCATION_JSON: _json_bytes(
            {
                **about,
                "table_sha256": results.table_sha256,
                "rules": results.rules,
                "inputs": results.allocation_inputs,
                "explanation": list(results.explanation),
            }
        ),
    }


def _csv_bytes(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([_formula_safe(c) for c in columns])
    for row in rows:
        writer.writerow([_csv_cell(row.get(c)) for c in columns])
    return buffer.getvalue().encode("utf-8")


def _csv_cell(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _formula_safe(value)


def _formula_safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def _json_bytes(value: object) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _seats_parquet(records: Sequence[Mapping[str, Any]]) -> bytes:
    schema = pa.schema([(name, _PARQUET_TYPES.get(name, pa.string())) for name in SEAT_COLUMNS])
    table = pa.Table.from_pylist([{k: r.get(k) for k in SEAT_COLUMNS} for r in records], schema=schema)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def _area_record(area: AreaTotals, lists: Sequence[ListInfo]) -> dict[str, Any]:
    record: dict[str, Any] = {"region_id": area.region_id, "name": area.name, **area.figures}
    record.update({info.list_id: area.votes[info.list_id] for info in lists})
    return record


assert set(SEAT_COLUMNS) <= set(RECORD_FIELDS)  # the allocation still records every column it had
