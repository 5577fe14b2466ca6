"""Checking one publication folder alone, with no warehouse: what a third party who downloaded it can do.

Every file against the manifest (nothing missing, extra or altered); every file stating the same
publication, log position and head hash as the manifest; the seat table recomputed from the folder's
own totals and rules (`allocation.json`) with the pure allocation code and compared with the published
one and its checksum; the list totals it was computed from equal to the national and regional totals
published beside it; and, given the commission's public key, the manifest's signature.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any

from pipelines.core.errors import InputError, RulesCannotDecide
from pipelines.domain.events import canonical_json
from pipelines.domain.list_kinds import PARTY
from pipelines.publishing.export_tables import AGAINST_ALL, PSEUDO_ROWS
from pipelines.publishing.publication_layout import (
    ALLOCATION_JSON,
    MANIFEST,
    NATIONAL_JSON,
    PRECINCTS_CSV,
    REGIONAL_JSON,
    SEATS_JSON,
    SIGNATURE,
)
from pipelines.publishing.published_results import TOTAL_FIELDS
from pipelines.publishing.signing import load_public_key, signature_problem
from pipelines.publishing.spreadsheet_safe import from_spreadsheet_cell
from pipelines.rules.rule_profiles import parse_profile
from pipelines.rules.seat_allocation import ListVotes, allocate

# What every JSON file of a folder states about the publication it belongs to.
_STATED = ("publication_id", "election_id", "status", "based_on_position", "based_on_hash", "rule_profile")


def check_folder(folder: Path, public_key: Path | None = None) -> list[str]:
    """Problems found, each naming the file; [] when the folder is whole and its seats recompute."""
    key = load_public_key(public_key) if public_key is not None else None
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        return [f"{MANIFEST}: missing from {folder}"]
    manifest_bytes = manifest_path.read_bytes()
    try:
        manifest = json.loads(manifest_bytes)
        listed: dict[str, Any] = dict(manifest["files"])
    except (ValueError, KeyError, TypeError):
        return [f"{MANIFEST}: not a publication manifest"]
    problems = _checksums(folder, listed)
    if key is not None:
        signature = folder / SIGNATURE
        if not signature.is_file():
            problems.append(f"{SIGNATURE}: missing - the folder is not signed, but a public key was given")
        else:
            problem = signature_problem(signature.read_bytes(), manifest_bytes, key)
            if problem is not None:
                problems.append(f"{SIGNATURE}: {problem}")
    if problems:
        return problems  # the files are not what the manifest lists: nothing below would mean much
    documents: dict[str, dict[str, Any]] = {}
    for name in (SEATS_JSON, NATIONAL_JSON, REGIONAL_JSON, ALLOCATION_JSON):
        try:
            documents[name] = json.loads((folder / name).read_bytes())
        except (OSError, ValueError):
            problems.append(f"{name}: missing or not JSON")
    if problems:
        return problems
    for name, document in documents.items():
        for field in _STATED:
            if document.get(field) != manifest.get(field):
                stated, expected = document.get(field), manifest.get(field)
                problems.append(f"{name}: {field} {stated!r} differs from the manifest's {expected!r}")
    problems.extend(_recomputed(documents, manifest))
    if PRECINCTS_CSV in listed:
        national = documents[NATIONAL_JSON].get("national", {})
        problems.extend(_precincts_agree(folder / PRECINCTS_CSV, national))
    return problems


def _checksums(folder: Path, listed: dict[str, Any]) -> list[str]:
    problems = []
    present = {p.name for p in folder.iterdir() if p.name not in (MANIFEST, SIGNATURE)}
    for name in sorted(present - set(listed)):
        problems.append(f"{name}: not listed in the manifest")
    for name, expected in sorted(listed.items()):
        path = folder / name
        if "/" in name or not path.is_file():
            problems.append(f"{name}: listed in the manifest but missing")
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if not isinstance(expected, dict) or digest != expected.get("sha256"):
            wanted = expected.get("sha256") if isinstance(expected, dict) else expected
            problems.append(f"{name}: sha256 {digest} differs from the manifest's {wanted}")
    return problems


def _recomputed(documents: dict[str, dict[str, Any]], manifest: dict[str, Any]) -> list[str]:
    """The seat table allocated again from allocation.json, against seats.json and the totals files."""
    allocation = documents[ALLOCATION_JSON]
    inputs = allocation.get("inputs", {})
    try:
        profile = parse_profile(allocation.get("rules"), file=ALLOCATION_JSON)
        lists = [
            ListVotes(
                list_id=str(r["list_id"]),
                name=str(r["name"]),
                votes=r["votes"],
                ballot_order=r.get("ballot_order"),
                candidates=r.get("candidates"),
                kind=r.get("kind", PARTY),
            )
            for r in inputs["lists"]
        ]
        recomputed = allocate(
            lists,
            profile,
            against_all=inputs["against_all"],
            invalid=inputs["invalid_ballots"],
            ballots_cast=inputs["ballots_cast"],
            registered_voters=inputs.get("registered_voters"),
        ).to_records()
    except (InputError, RulesCannotDecide) as exc:
        return [f"{ALLOCATION_JSON}: the seats cannot be recomputed from its totals and rules: {exc}"]
    except (KeyError, TypeError, AttributeError) as exc:
        return [f"{ALLOCATION_JSON}: the allocation inputs are incomplete ({exc})"]
    problems = []
    published = documents[SEATS_JSON].get("seats")
    if published != recomputed:
        problems.append(f"{SEATS_JSON}: {_first_difference(published, recomputed)}")
    checksum = hashlib.sha256(canonical_json(recomputed).encode("utf-8")).hexdigest()
    for name, stated in (
        (MANIFEST, manifest.get("table_sha256")),
        *((n, d.get("table_sha256")) for n, d in documents.items() if "table_sha256" in d),
    ):
        if stated != checksum:
            problems.append(f"{name}: table_sha256 {stated} is not the recomputed seat table's {checksum}")
    problems.extend(_totals_agree(documents, inputs))
    return problems


def _first_difference(published: Any, recomputed: list[dict[str, Any]]) -> str:
    if not isinstance(published, list) or len(published) != len(recomputed):
        return "the published seat table has other lists than the recomputed one"
    for row, again in zip(published, recomputed, strict=True):
        if row != again:
            changed = sorted(k for k in again if not isinstance(row, dict) or row.get(k) != again[k])
            column = changed[0] if changed else "?"
            value = row.get(column) if isinstance(row, dict) else row
            return (
                f"list {again['list_id']}: {column} is {value!r} as published, {again[column]!r} recomputed "
                "from allocation.json's totals and rules"
            )
    return "differs from the recomputed seat table"


def _totals_agree(documents: dict[str, dict[str, Any]], inputs: dict[str, Any]) -> list[str]:
    """The votes allocated are the national totals published, which are the sum of the regions'."""
    problems = []
    national = documents[NATIONAL_JSON].get("national", {})
    regions = documents[REGIONAL_JSON].get("regions", [])
    for row in inputs["lists"]:
        list_id = row["list_id"]
        if national.get(list_id) != row["votes"]:
            problems.append(
                f"{NATIONAL_JSON}: list {list_id} has {national.get(list_id)!r} votes, "
                f"{ALLOCATION_JSON} allocated {row['votes']!r}"
            )
        regional = sum(int(r.get(list_id, 0)) for r in regions if isinstance(r, dict))
        if regional != national.get(list_id):
            problems.append(
                f"{REGIONAL_JSON}: list {list_id}'s regional votes add up to {regional}, "
                f"not the national {national.get(list_id)!r}"
            )
    for field in ("ballots_cast", "invalid_ballots", "against_all"):
        if national.get(field) != inputs.get(field):
            problems.append(
                f"{NATIONAL_JSON}: {field} is {national.get(field)!r}, {ALLOCATION_JSON} allocated "
                f"with {inputs.get(field)!r}"
            )
        regional = sum(int(r.get(field, 0)) for r in regions if isinstance(r, dict))
        if regional != national.get(field):
            problems.append(
                f"{REGIONAL_JSON}: {field} of the regions adds up to {regional}, not the national "
                f"{national.get(field)!r}"
            )
    return problems


# The national figure each precinct pseudo-row adds up to.
_PSEUDO_TOTALS = {
    "Registered Voters": "registered_voters_counted",
    "Ballots Cast": "ballots_cast",
    "Invalid Ballots": "invalid_ballots",
}


def _precincts_agree(path: Path, national: dict[str, Any]) -> list[str]:
    """The precinct results add up to the national totals: votes per list, against all, and the
    pseudo-rows' registered voters, ballots cast and invalid ballots."""
    assert set(_PSEUDO_TOTALS) == {label for label, _ in PSEUDO_ROWS}
    sums: dict[str, int] = {}
    try:
        for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")):
            office, party = from_spreadsheet_cell(row["office"]), from_spreadsheet_cell(row["party"])
            candidate = from_spreadsheet_cell(row["candidate"])
            key = _PSEUDO_TOTALS.get(office) or party or ("against_all" if candidate == AGAINST_ALL else "")
            sums[key] = sums.get(key, 0) + int(row["votes"])
    except (OSError, UnicodeDecodeError, csv.Error, KeyError, TypeError, ValueError) as exc:
        return [f"{PRECINCTS_CSV}: not the precinct results this folder publishes ({exc})"]
    lists = set(national) - {"region_id", "name", *TOTAL_FIELDS}
    problems = []
    for key in sorted(set(sums) | lists | {"against_all", *_PSEUDO_TOTALS.values()}):
        if sums.get(key, 0) != national.get(key):
            problems.append(
                f"{PRECINCTS_CSV}: {key} adds up to {sums.get(key, 0)} over the precincts, "
                f"{NATIONAL_JSON} has {national.get(key)!r}"
            )
    return problems
