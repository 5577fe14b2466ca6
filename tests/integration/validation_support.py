"""Small elections and protocol files for the validation-gate tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pipelines.domain.election import ElectionDeclaration, parse_declaration

LISTS = ("amanat", "ak_zhol", "auyl")
PRECINCTS = {
    "P-001": ("north", 1000),
    "P-002": ("north", 800),
    "P-003": ("south", 1200),
    "P-004": ("south", 500),
}
HEADER = (
    "election_id",
    "precinct_id",
    "region",
    "registered_voters",
    "ballots_issued",
    "ballots_cast",
    "invalid_ballots",
    *LISTS,
)


def declaration(
    *,
    election_id: str = "test-2021",
    lists: Sequence[str] = LISTS,
    precincts: Mapping[str, tuple[str, int]] | None = None,
    against_all: bool = False,
) -> ElectionDeclaration:
    precincts = PRECINCTS if precincts is None else precincts
    regions = sorted({region for region, _ in precincts.values()})
    data: dict[str, Any] = {
        "election_id": election_id,
        "name": "Test election",
        "date": "2021-01-10",
        "rule_profile": "kz-mazhilis",
        "against_all_on_ballot": against_all,
        "lists": [{"list_id": lid, "name": lid.title(), "ballot_order": i} for i, lid in enumerate(lists, 1)],
        "regions": [{"region_id": r, "name": r.title()} for r in regions],
        "precincts": [
            {"precinct_id": pid, "region_id": region, "registered_voters": voters}
            for pid, (region, voters) in precincts.items()
        ],
    }
    return parse_declaration(data)


def good_row(
    precinct_id: str = "P-001", *, election_id: str = "test-2021", **changes: object
) -> dict[str, str]:
    """A protocol row that adds up: 600 cast of 1000, 10 invalid, 400/150/40 votes."""
    region = PRECINCTS.get(precinct_id, ("north", 0))[0]
    row: dict[str, object] = {
        "election_id": election_id,
        "precinct_id": precinct_id,
        "region": region,
        "registered_voters": 1000,
        "ballots_issued": 610,
        "ballots_cast": 600,
        "invalid_ballots": 10,
        "amanat": 400,
        "ak_zhol": 150,
        "auyl": 40,
    }
    row.update(changes)
    return {k: str(v) for k, v in row.items()}


def csv_text(
    rows: Sequence[Mapping[str, str]], header: Sequence[str] = HEADER, *, newline: str = "\n"
) -> str:
    lines = [",".join(header)]
    lines.extend(",".join(row.get(column, "") for column in header) for row in rows)
    return newline.join(lines) + newline


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_bytes(text.encode("utf-8"))
    return path
