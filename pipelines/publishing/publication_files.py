"""The immutable folder of one publication: seat table, totals, NIST CDF, results page, the inputs of
its allocation, the manifest and (with a signing key configured) the manifest's signature.

Everything in the folder, the manifest included, is derived from the log as of the publication's
event, so rebuilding it from the same events gives the same bytes. Every file states the log position
the publication is based on and the hash of the event there (the head it saw); `allocation.json`
holds the list totals, the rules as recorded in the event and the allocation's trace, so that a
folder can be checked alone (`pipelines.publishing.publication_check`). A folder is written under a temporary
name and renamed into place, and an existing folder is never rewritten.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.core.errors import InputError
from pipelines.core.paths import WarehousePaths
from pipelines.publishing.export_tables import (
    Table,
    about_table,
    national_table,
    precinct_results_table,
    precincts_table,
    regions_table,
    seats_table,
)
from pipelines.publishing.nist_cdf import report_bytes
from pipelines.publishing.publication_certainty import certainty_document
from pipelines.publishing.publication_format_1 import render_format_1
from pipelines.publishing.publication_layout import (
    ALLOCATION_JSON,
    CDF_JSON,
    CERTAINTY_JSON,
    CURRENT_PUBLICATION_FORMAT,
    FIRST_PUBLICATION_FORMAT,
    MANIFEST,
    NATIONAL_CSV,
    NATIONAL_JSON,
    PRECINCTS_CSV,
    PRECINCTS_PARQUET,
    REGIONAL_CSV,
    REGIONAL_JSON,
    RESULTS_PAGE,
    SEATS_CSV,
    SEATS_JSON,
    SEATS_PARQUET,
    SIGNATURE,
    WORKBOOK,
)
from pipelines.publishing.published_results import AreaTotals, PublishedResults, load_published_results
from pipelines.publishing.results_page import render_results_page
from pipelines.publishing.results_page_format_2 import render_results_page as render_results_page_format_2
from pipelines.publishing.results_page_format_3 import render_results_page as render_results_page_format_3
from pipelines.publishing.signing import configured_signing_key, sign_manifest
from pipelines.publishing.spreadsheet_safe import spreadsheet_safe
from pipelines.publishing.workbook import workbook_bytes
from pipelines.rules.seat_allocation.model import RECORD_FIELDS
from pipelines.store.migrations import first_row
from pipelines.store.queries import query

# Above this many precincts the workbook has no precinct sheet (precincts.csv and .parquet have them):
# openpyxl writes ~100,000 precinct rows in 20-30 s while the publishing writer holds the lock, and
# a spreadsheet of a million rows is past what people open (Excel stops at 1,048,576).
SHEET_MAX_PRECINCTS = 100_000

# -- rendering the files -----------------------------------------------------------------------


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """CSV that a spreadsheet opens as written: no header or cell becomes a formula, date or other
    number than its own (`spreadsheet_safe`)."""
    buffer = io.StringIO()
    # CRLF as RFC 4180 has it: the csv module quotes a cell holding any character of the line
    # terminator, so a lone CR in a name cannot end a row.
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([spreadsheet_safe(c) for c in columns])
    writer.writerows([_csv_cell(v) for v in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


def table_csv(table: Table) -> bytes:
    return csv_bytes(table.columns, table.rows)


def _csv_cell(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    return spreadsheet_safe(value)


def json_bytes(value: object) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _seats_parquet(records: Sequence[Mapping[str, Any]]) -> bytes:
    types = {
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
    schema = pa.schema([(name, types.get(name, pa.string())) for name in RECORD_FIELDS])
    table = pa.Table.from_pylist([{k: r.get(k) for k in RECORD_FIELDS} for r in records], schema=schema)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def _precincts_parquet(table: Table) -> bytes:
    """The precinct results as typed columns: votes a 64-bit integer, the rest text."""
    schema = pa.schema([(c, pa.int64() if c == "votes" else pa.string()) for c in table.columns])
    columns = {c: [row[i] for row in table.rows] for i, c in enumerate(table.columns)}
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pydict(columns, schema=schema), sink, compression="zstd")
    return sink.getvalue()


def render_files(results: PublishedResults) -> dict[str, bytes]:
    """Every file of the folder but the manifest, as bytes: a pure function of the results, in the
    format its event records (the folder a version wrote stays the folder this one renders)."""
    if results.publication_format == FIRST_PUBLICATION_FORMAT:
        return render_format_1(results)
    if not FIRST_PUBLICATION_FORMAT < results.publication_format <= CURRENT_PUBLICATION_FORMAT:
        raise InputError(
            f"publication {results.publication_id} is of format {results.publication_format}, which "
            f"this version cannot render (it knows formats {FIRST_PUBLICATION_FORMAT} to "
            f"{CURRENT_PUBLICATION_FORMAT}): it was written by a later version",
            value=str(results.publication_format),
        )
    national, regions = national_table(results), regions_table(results)
    about = {
        "publication_id": results.publication_id,
        "election_id": results.election_id,
        "status": results.status,
        "based_on_position": results.based_on_position,
        "based_on_hash": results.based_on_hash,
        "rule_profile": results.rule_profile,
        "published_at": results.published_at_text,
    }
    seats = seats_table(results)
    # Format 3 differs from format 2 by its results page alone, format 4 by its page and certainty.json
    # (docs/warehouse.md "Folder formats").
    page = {2: render_results_page_format_2, 3: render_results_page_format_3}.get(
        results.publication_format, render_results_page
    )
    files = {
        SEATS_CSV: table_csv(seats),
        SEATS_JSON: json_bytes(
            {**about, "table_sha256": results.table_sha256, "seats": list(results.allocation)}
        ),
        SEATS_PARQUET: _seats_parquet(results.allocation),
        NATIONAL_CSV: table_csv(national),
        NATIONAL_JSON: json_bytes({**about, "national": national.records()[0]}),
        REGIONAL_CSV: table_csv(regions),
        REGIONAL_JSON: json_bytes({**about, "regions": regions.records()}),
        CDF_JSON: report_bytes(results),
        RESULTS_PAGE: page(results).encode("utf-8"),
        ALLOCATION_JSON: json_bytes(
            {
                **about,
                "table_sha256": results.table_sha256,
                "rules": results.rules,
                "inputs": results.allocation_inputs,
                "explanation": list(results.explanation),
            }
        ),
    }
    if results.certainty is not None:
        by_list = {str(r["list_id"]): r for r in results.allocation}
        files[CERTAINTY_JSON] = json_bytes({**about, **certainty_document(results.certainty, by_list)})
    sheets = [seats, national, regions]
    precinct_results, precincts = precinct_results_table(results), precincts_table(results)
    if precinct_results is not None:
        files[PRECINCTS_CSV] = table_csv(precinct_results)
        files[PRECINCTS_PARQUET] = _precincts_parquet(precinct_results)
    if precincts is not None and len(precincts.rows) <= SHEET_MAX_PRECINCTS:
        sheets.append(precincts)
    sheets.append(about_table(results))
    files[WORKBOOK] = workbook_bytes(sheets, results.published_at)
    return files


def manifest(results: PublishedResults, files: Mapping[str, bytes]) -> dict[str, Any]:
    """A pure function of the log: the time it states is the publication event's, never the clock.
    Format 1 manifests had neither a format key nor `revokes`; later ones state their format, and a
    publication appended with a revocation states it (`revokes`): readers of the folders alone (the
    results API) learn from it that the certification it names no longer stands."""
    stated = (
        {}
        if results.publication_format == FIRST_PUBLICATION_FORMAT
        else {"publication_format": results.publication_format}
    )
    revokes = {} if results.revokes is None else {"revokes": dict(results.revokes)}
    return {
        **stated,
        "publication_id": results.publication_id,
        "election_id": results.election_id,
        "status": results.status,
        "position": results.position,
        "based_on_position": results.based_on_position,
        "based_on_hash": results.based_on_hash,
        "rule_profile": results.rule_profile,
        "table_sha256": results.table_sha256,
        "published_at": results.published_at_text,
        **revokes,
        "files": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            for name, data in sorted(files.items())
        },
    }


# -- writing and checking folders --------------------------------------------------------------


def warehouse_of(conn: duckdb.DuckDBPyConnection) -> WarehousePaths | None:
    """The warehouse whose database this connection opened; None for an in-memory database."""
    row = first_row(conn.execute(query("database_path")))
    if row is None or not row[0]:
        return None
    return WarehousePaths(Path(str(row[0])).parent)


def check_folder_name(publication_id: str) -> None:
    """The id embeds the declared election id, which must not lead the folder anywhere else."""
    if publication_id in ("", ".", "..") or any(c in publication_id for c in "/\\\0"):
        raise InputError(
            "a publication id must be usable as one folder name (no '/', '\\' or NUL)",
            column="election_id",
            value=publication_id,
        )


def write_publication(paths: WarehousePaths, conn: duckdb.DuckDBPyConnection, publication_id: str) -> Path:
    """Write the folder of a publication unless it exists already; return the folder either way."""
    check_folder_name(publication_id)
    folder = paths.publications / publication_id
    if folder.exists():
        return folder
    files = publication_folder_files(conn, publication_id)
    key = configured_signing_key()
    if key is not None:
        files[SIGNATURE] = sign_manifest(key, files[MANIFEST])
    paths.publications.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=paths.publications, prefix=f".{publication_id}."))
    try:
        for name, data in files.items():
            target = staging / name
            target.write_bytes(data)
            os.chmod(target, 0o444)
        if folder.exists():  # written meanwhile by another process: keep theirs
            shutil.rmtree(staging)
            return folder
        os.rename(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    os.chmod(folder, 0o555)
    return folder


def publication_folder_files(
    conn: duckdb.DuckDBPyConnection,
    publication_id: str,
    *,
    counted: Mapping[tuple[str, int], Sequence[AreaTotals]] | None = None,
) -> dict[str, bytes]:
    """Every file of a publication's folder but its signature, rendered from the log (`counted`: as
    for `load_published_results`)."""
    results = load_published_results(conn, publication_id, counted=counted)
    files = render_files(results)
    files[MANIFEST] = json_bytes(manifest(results, files))
    return files


def rebuild_publication(conn: duckdb.DuckDBPyConnection, publication_id: str) -> dict[str, bytes]:
    """The data files of a publication rendered again from the log, without the manifest (see
    `publication_folder_files` for the whole folder, manifest included)."""
    return render_files(load_published_results(conn, publication_id))
