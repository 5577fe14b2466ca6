"""A commission's own files into the warehouse through a native layout (docs/layouts.md).

`declare_native` declares the election the files report (lists from the header, regions and precincts
from the rows) by writing the declaration and its precinct list, then ingesting them like any
declaration: archived, journaled and in the log as received. `ingest_native` ingests the files
themselves: each archived as received, its journaled receipt carrying the layout's content and
SHA-256, its rows translated into the protocol table and judged by the same gate, decisions and events
as protocol-v1 files. Before anything is written, every file is read through the layout: one that it
does not fit (encoding, header, the columns it names) refuses the whole command (exit 2).
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path, PurePath

from pipelines.core.errors import InputError
from pipelines.gate.intake import Refusal, read_intake_file
from pipelines.gate.native_declaration import NativeSource, declaration_from_native, fitted
from pipelines.gate.native_layout import NativeLayout
from pipelines.gate.native_table import NativeFile
from pipelines.gate.validation import ValidationPolicy
from pipelines.ingestion.ingest import (
    DECLARATION_SUFFIX,
    PRECINCTS_SUFFIX,
    PROFILE_MAX_BYTES,
    WAITING_ROWS,
    IngestSummary,
    collect_files,
    ingest_paths,
)
from pipelines.rules.rule_profiles import is_profile_id, parse_profile, profile_data
from pipelines.store.raw_archive import sha256_bytes


def read_sources(paths: Sequence[Path], *, refuse: bool = True) -> list[NativeSource]:
    """The named files and the files of the named folders, read as intake reads them (never through
    a link, regular files within the size limit); the first refused refuses the command, or with
    `refuse=False` is left out (ingestion then quarantines it unread, as any refused path)."""
    sources = []
    for found in collect_files(paths):
        if found.name.endswith(DECLARATION_SUFFIX):
            continue  # a declaration sent along is read as one, never through the layout
        data = read_intake_file(found)
        if isinstance(data, Refusal):
            if refuse:
                raise InputError(data.message, file=str(found.path), rule=data.rule)
            continue
        sources.append(NativeSource(found.name, data))
    return sources


def check_fit(paths: Sequence[Path], layout: NativeLayout) -> dict[str, NativeFile]:
    """Refuse (InputError) when the layout does not fit one of the files, before anything is written.
    The files read, by the SHA-256 of their bytes, for ingestion to take up instead of reading them
    again: the first ones, as many records as ingestion validates together at most (holding a whole
    delivery's would cost memory in proportion to it)."""
    sources = read_sources(paths, refuse=False)
    kept: dict[str, NativeFile] = {}
    records = 0
    for source, native in zip(sources, fitted(sources, layout), strict=True):
        records += len(native.records)
        if records <= WAITING_ROWS:
            kept[sha256_bytes(source.data)] = native
    return kept


def _profile_reference(rules: str, folder: Path) -> str:
    """A shipped profile id as is; a profile file copied beside the declaration (read without
    following a link), which ingesting the declaration archives and puts into the log."""
    if is_profile_id(rules):
        return rules
    data = read_intake_file(Path(rules), limit=PROFILE_MAX_BYTES)
    if isinstance(data, Refusal):
        raise InputError(f"rule profile: {data.message}", file=rules, rule=data.rule)
    suffix = PurePath(rules).suffix.lower()
    name = "rules" + (suffix if suffix in (".yaml", ".yml", ".json") else ".yaml")
    parse_profile(profile_data(data, file=rules), file=rules)  # refused here, before anything is written
    (folder / name).write_bytes(data)
    return name


def declare_native(
    paths: Sequence[Path],
    *,
    layout: NativeLayout,
    rules: str,
    election_id: str,
    name: str,
    date: str = "",
    warehouse: Path,
) -> IngestSummary:
    """Declare the election the native files report and ingest the declaration."""
    sources = read_sources(paths)
    with tempfile.TemporaryDirectory(prefix="declare-") as tmp:
        folder = Path(tmp)
        declaration = declaration_from_native(
            sources,
            layout,
            election_id=election_id,
            name=name,
            rule_profile=_profile_reference(rules, folder),
            date=date,
        )
        precincts = f"{election_id}{PRECINCTS_SUFFIX}"
        with (folder / precincts).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["precinct_id", "region_id", "registered_voters"])
            table = declaration.precinct_table()
            writer.writerows(
                zip(
                    table.precinct_ids.to_pylist(),
                    table.region_ids.to_pylist(),
                    table.registered_voters.tolist(),
                    strict=True,
                )
            )
        described = declaration.to_json_dict(include_precincts=False)
        if not date:
            del described["date"]
        described["precincts_csv"] = precincts
        target = folder / f"{election_id}{DECLARATION_SUFFIX}"
        target.write_text(json.dumps(described, ensure_ascii=False, indent=1), encoding="utf-8")
        return ingest_paths([target], warehouse=warehouse)


def ingest_native(
    paths: Sequence[Path],
    *,
    layout: NativeLayout,
    election_id: str,
    warehouse: Path,
    policy: ValidationPolicy | None = None,
) -> IngestSummary:
    """Ingest native results files of a declared election through `layout`."""
    natives = check_fit(paths, layout)
    return ingest_paths(
        paths, warehouse=warehouse, election_id=election_id, policy=policy, layout=layout, natives=natives
    )
